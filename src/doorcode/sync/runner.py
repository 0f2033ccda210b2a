"""The in-process runner: the loop ``doorcode serve`` runs beside the API.

It wakes when the earliest of three things comes due, then reconciles what needs it:

* a grant change: services commit, the unit of work's hook calls ``nudge`` (from any thread;
  the wake-up is handed to the loop with ``call_soon_threadsafe``) and the loop looks at once;
* a lock's next change instant (``locks.next_sync_at``: a code's lead time begins, a window
  ends, a retry is due), exactly then rather than at the next tick;
* the periodic sweep (``DOORCODE_SWEEP_INTERVAL``, 5 minutes), which re-checks every lock;
* a change committed by another process (the CLI, a second API process, a script), which no
  nudge reaches: every ``DOORCODE_CHANGE_WATCH_INTERVAL`` (1 s) the loop asks the database
  for locks whose ``sync_requests`` grew, a query on the locks table alone.

What to do is always read from the database (locks whose ``sync_requests`` grew, or that are
due), never from the nudge itself: a missed nudge only delays a pass until the next wake-up.
The loop's own failure policy: a pass that raises (a bug, the database down) is logged and
retried after a pause; the loop itself never dies of it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timedelta

from doorcode.domain.clock import Clock
from doorcode.sync.reconciler import Reconciler

__all__ = ["SyncRunner"]

logger = logging.getLogger(__name__)

_AFTER_A_CRASH = 5.0
"""Seconds to wait after a failed pass before trying again."""


class SyncRunner:
    """Drives a ``Reconciler`` from nudges, due instants and a periodic sweep."""

    def __init__(
        self,
        reconciler: Reconciler,
        clock: Clock,
        sweep_interval: timedelta,
        watch_interval: timedelta = timedelta(seconds=1),
    ) -> None:
        self._reconciler = reconciler
        self._clock = clock
        self._sweep_interval = sweep_interval
        self._watch_interval = watch_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._nudged_early = threading.Event()
        self._next_sweep: datetime | None = None

    def nudge(self, lock_ids: frozenset[str]) -> None:
        """A commit changed these locks' desired codes; safe to call from any thread."""
        if not lock_ids:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._nudged_early.set()
            return
        loop.call_soon_threadsafe(self._wake.set)

    def wake(self) -> None:
        """Look again now (same thread as the loop): the clock moved, or a test says so."""
        self._wake.set()

    async def run(self) -> None:
        """Reconcile until cancelled; starts with a sweep of every lock."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._nudged_early.is_set():
            self._wake.set()
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("lock sync pass failed; trying again in %s s", _AFTER_A_CRASH)
                await asyncio.sleep(_AFTER_A_CRASH)
                continue
            await self._sleep_until(await asyncio.to_thread(self._next_wake_up))

    async def run_once(self) -> None:
        """One round: the sweep if it is due, else the locks that asked or are due."""
        now = self._clock()
        self._wake.clear()
        self._nudged_early.clear()
        if self._next_sweep is None or now >= self._next_sweep:
            self._next_sweep = now + self._sweep_interval
            lock_ids = await asyncio.to_thread(self._reconciler.every_lock)
        else:
            lock_ids = await asyncio.to_thread(self._reconciler.pending)
        if lock_ids:
            await self._reconciler.reconcile(lock_ids)

    def _next_wake_up(self) -> datetime:
        due = self._reconciler.next_due()
        assert self._next_sweep is not None
        watch = self._clock() + self._watch_interval
        return min(instant for instant in (due, self._next_sweep, watch) if instant is not None)

    async def _sleep_until(self, instant: datetime) -> None:
        """Until ``instant`` by the clock, or a nudge, whichever comes first."""
        delay = (instant - self._clock()).total_seconds()
        if delay <= 0:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
        except TimeoutError:
            return
