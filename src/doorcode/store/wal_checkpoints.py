"""SQLite's write-ahead log, copied into the database beside the writers instead of by them.

SQLite copies its log into the database file (a checkpoint) in whichever commit finds the log
past ``wal_autocheckpoint`` pages, so that one commit pays for every page the others wrote.
On a large database the pages a booking touches are scattered (random ids in a dozen
indexes): a checkpoint took 8-15 ms there against at most 4 on a fresh one, and with 100,000
bookings stored, new bookings came in 10-15 % slower for it (``bench/ingest.py``). ``serve``
runs ``run_checkpoints`` instead: a PASSIVE checkpoint every ``INTERVAL`` in a thread (SQLite
leaves the interpreter free meanwhile), which never waits for a writer nor makes one wait.
Every connection keeps ``database.AUTO_CHECKPOINT_PAGES`` as the net should the loop fall
behind, and the last connection to close checkpoints as always (a CLI command's).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Engine

__all__ = ["INTERVAL", "checkpoint", "run_checkpoints"]

logger = logging.getLogger(__name__)

INTERVAL = timedelta(milliseconds=200)


def checkpoint(engine: Engine) -> None:
    """Copy what the log holds into the database, as far as no reader still needs it."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


async def run_checkpoints(engine: Engine, interval: timedelta = INTERVAL) -> None:
    """Checkpoint every ``interval`` until cancelled; a failure waits for the next turn.

    Returns at once on PostgreSQL, which checkpoints by itself.
    """
    if engine.dialect.name != "sqlite":
        return
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            await asyncio.to_thread(checkpoint, engine)
        except Exception:  # the commits' own checkpoints stand in meanwhile
            logger.warning("could not checkpoint the SQLite log", exc_info=True)
