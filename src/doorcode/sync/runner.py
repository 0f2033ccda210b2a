"""The in-process runner: the loop ``doorcode serve`` runs beside the API.

It wakes when the earliest of these comes due, then reconciles what needs it:

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

Passes run beside the loop, not in it, so a booking never waits for other locks' passes: each
round starts tasks for the locks that need one and are not already being passed, and the
sweep walks every lock in batches the same way. A lock is in at most one pass at a time (the
set ``in_flight``, checked and filled without an ``await`` in between); a lock that changed
during its pass is still pending afterwards, and the end of every pass wakes the loop to look.

What bounds the rounds is locks, not rounds: at most ``MAX_ROUNDS`` times the reconciler's
concurrency locks are passed at once besides the sweep, and a round's locks go out in tasks
of at most ``concurrency`` locks, so no lock of a round waits for a free place behind another
lock's pass. A bound in rounds let eight rounds of one slow lock each (a cloud answering in
200 ms, three calls a pass) hold every new booking back until one ended, and the backlog then
went out as one big round that queued behind its own slowest locks: seconds, at 10 bookings/s.

The loop's own failure policy: a pass that raises (a bug, the database down) is logged and
its locks wait a pause before they are tried again; the loop itself never dies of it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from doorcode.domain.clock import Clock
from doorcode.sync.reconciler import Reconciler

__all__ = ["MAX_ROUNDS", "SyncRunner"]

logger = logging.getLogger(__name__)

_AFTER_A_CRASH = 5.0
"""Seconds to wait after a failed pass before trying its locks again."""
MAX_ROUNDS = 8
"""Rounds' worth of locks (each ``concurrency`` locks) passed at once besides the sweep."""


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
        self._in_flight: set[str] = set()
        self._rounds: dict[asyncio.Task[None], int] = {}
        """Each round's task and how many locks it passes."""
        self._sweeping: asyncio.Task[None] | None = None

    def nudge(self, lock_ids: frozenset[str]) -> None:
        """A commit changed these locks' desired codes; safe to call from any thread."""
        if not lock_ids:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._nudged_early.set()
            return
        try:
            loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop closed since the check: remembered for the next run
            self._nudged_early.set()

    def wake(self) -> None:
        """Look again now (same thread as the loop): the clock moved, or a test says so."""
        self._wake.set()

    async def run(self) -> None:
        """Reconcile until cancelled; starts with a sweep of every lock."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._nudged_early.is_set():
            self._wake.set()
        try:
            while True:
                try:
                    started = self._start(*await self._round())
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("lock sync pass failed; trying again in %s s", _AFTER_A_CRASH)
                    await asyncio.sleep(_AFTER_A_CRASH)
                    continue
                instant = await asyncio.to_thread(self._next_wake_up)
                if not started and self._in_flight:
                    # What is due is being passed already: wait for a pass to end, not spin.
                    instant = max(instant, self._clock() + self._watch_interval)
                await self._sleep_until(instant)
        finally:
            # Awaited, not only cancelled: a pass still writing its records must finish
            # before whoever stopped the runner closes the runtime under it.
            passes = [*self._rounds, *([self._sweeping] if self._sweeping else [])]
            for task in passes:
                task.cancel()
            await asyncio.gather(*passes, return_exceptions=True)

    async def run_once(self) -> None:
        """One round, to its end: the sweep if it is due, else the locks that asked or are due."""
        started = self._start(*await self._round())
        if started:
            await asyncio.gather(*started)

    async def _round(self) -> tuple[bool, list[str]]:
        """Whether this round sweeps, and the locks to look at."""
        now = self._clock()
        self._wake.clear()
        self._nudged_early.clear()
        if self._next_sweep is None or now >= self._next_sweep:
            self._next_sweep = now + self._sweep_interval
            return True, await asyncio.to_thread(self._reconciler.every_lock)
        return False, await asyncio.to_thread(self._reconciler.pending)

    def _start(self, sweep: bool, lock_ids: list[str]) -> list[asyncio.Task[None]]:
        """Start the round's passes beside the loop; the tasks started (none: nothing to do)."""
        if sweep:
            if self._sweeping is not None and not self._sweeping.done():
                return []  # the last sweep still walks the locks; it is this one too
            self._sweeping = asyncio.create_task(self._sweep(lock_ids))
            return [self._sweeping]
        room = MAX_ROUNDS * self._reconciler.concurrency - sum(self._rounds.values())
        free = [lock_id for lock_id in lock_ids if lock_id not in self._in_flight][: max(room, 0)]
        size = self._reconciler.concurrency
        return [
            self._start_round(self._take(free[i : i + size])) for i in range(0, len(free), size)
        ]

    def _start_round(self, lock_ids: list[str]) -> asyncio.Task[None]:
        """One task passing ``lock_ids`` (at most ``concurrency``: all at once, none queued)."""
        task = asyncio.create_task(self._pass(lock_ids))
        self._rounds[task] = len(lock_ids)
        task.add_done_callback(self._end_round)
        return task

    def _end_round(self, task: asyncio.Task[None]) -> None:
        self._rounds.pop(task, None)

    async def _sweep(self, lock_ids: list[str]) -> None:
        """Every lock, ``concurrency`` at a time; a lock being passed by a round is left to it.

        A lock stays taken until its whole batch is recorded, so a booking on a lock the sweep
        holds waits for that batch. A batch is as many locks as pass at once, so that wait is
        one pass (two calls, 400 ms through a cloud), not the four in a row that batches of
        four times the concurrency cost: the start-up sweep of 60 cloud locks held the first
        seconds' bookings up to 3.4 s. The price is more, smaller transactions per sweep.
        """
        size = min(self._reconciler.batch_size, self._reconciler.concurrency)
        for start in range(0, len(lock_ids), size):
            batch = [i for i in lock_ids[start : start + size] if i not in self._in_flight]
            await self._pass(self._take(batch))

    def _take(self, lock_ids: list[str]) -> list[str]:
        """Mark these locks as being passed (no ``await`` between the check and this)."""
        self._in_flight.update(lock_ids)
        return lock_ids

    async def _pass(self, lock_ids: Sequence[str]) -> None:
        """One pass over ``lock_ids``; they are free again afterwards and the loop looks."""
        if not lock_ids:
            return
        try:
            await self._reconciler.reconcile(lock_ids)
        except Exception:
            logger.exception("lock sync pass failed; trying again in %s s", _AFTER_A_CRASH)
            await asyncio.sleep(_AFTER_A_CRASH)
        finally:
            self._in_flight.difference_update(lock_ids)
            self._wake.set()

    def _next_wake_up(self) -> datetime:
        due = self._reconciler.next_due()
        assert self._next_sweep is not None
        watch = self._clock() + self._watch_interval
        return min(instant for instant in (due, self._next_sweep, watch) if instant is not None)

    async def _sleep_until(self, instant: datetime) -> None:
        """Until ``instant`` by the clock, or a nudge, whichever comes first.

        ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` drops a cancellation
        that arrives as the nudge wakes it, and the runner, told to stop by ``serve``'s
        shutdown, went on forever while the shutdown waited for it.
        """
        delay = (instant - self._clock()).total_seconds()
        if delay <= 0:
            return
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            return
