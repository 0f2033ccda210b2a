"""Sending codes back to PMSs in the background: collect from the audit log, then POST.

``push_codes`` is one round (for a worker's periodic task); ``run_push_sender`` repeats it
in ``serve``. Like the feed poller, the synchronous work runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx

from doorcode.runtime import Runtime
from doorcode.sources.pms_push import TIMEOUT, collect_pushes, send_due_pushes

__all__ = ["TICK", "push_codes", "run_push_sender"]

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=15)


async def push_codes(runtime: Runtime, client: httpx.Client | None = None) -> int:
    """Queue pushes for new code events, then send those that are due; returns how many."""
    await asyncio.to_thread(collect_pushes, runtime.uow())
    owned = client is None
    client = client or httpx.Client(timeout=TIMEOUT)
    try:
        return await asyncio.to_thread(send_due_pushes, runtime.uow(), client)
    finally:
        if owned:
            client.close()


async def run_push_sender(runtime: Runtime) -> None:
    """Push codes every ``TICK`` until cancelled."""
    while True:
        try:
            await push_codes(runtime)
        except Exception:  # the loop must outlive any one bad push
            logger.exception("pushing codes to PMSs failed; trying again in %s", TICK)
        await asyncio.sleep(TICK.total_seconds())
