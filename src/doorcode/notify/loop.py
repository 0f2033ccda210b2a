"""Running guest messages: one pass, the async entry points for workers, and the in-process loop.

``process_message_outbox`` plans messages from new events; ``dispatch_due_messages`` sends
what is due. Both are coroutines that do their (blocking) database and network work in a
thread, so a worker or ``doorcode serve`` can await them without stalling its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from doorcode.notify.channels import Channels, channels_from_settings
from doorcode.notify.dispatcher import DispatchReport, dispatch_due
from doorcode.notify.outbox import process_outbox
from doorcode.runtime import Runtime

__all__ = [
    "MessageLoop",
    "MessagePass",
    "dispatch_due_messages",
    "message_loop",
    "process_message_outbox",
    "run_messages_once",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessagePass:
    """What one pass of planning and dispatching did."""

    planned: int
    report: DispatchReport


def run_messages_once(runtime: Runtime, channels: Channels) -> MessagePass:
    """Plan from new events, then dispatch what is due: one pass, in the calling thread."""
    planned = process_outbox(runtime.uow)
    return MessagePass(planned, dispatch_due(runtime.uow, channels, runtime.settings.public_url))


async def process_message_outbox(runtime: Runtime) -> int:
    """Plan messages for grants whose events are new (and sweep for any missed)."""
    return await asyncio.to_thread(process_outbox, runtime.uow)


async def dispatch_due_messages(runtime: Runtime) -> DispatchReport:
    """Send what is due through the configured channels."""
    channels = channels_from_settings(runtime.settings)
    try:
        return await asyncio.to_thread(
            dispatch_due, runtime.uow, channels, runtime.settings.public_url
        )
    finally:
        channels.close()


def message_loop(runtime: Runtime) -> Callable[[], Coroutine[Any, Any, None]]:
    """The background job ``serve`` runs: a pass every ``DOORCODE_MESSAGE_POLL_SECONDS``."""
    return MessageLoop(runtime).run


WOKEN_GAP = 0.25
"""Seconds at least between the starts of two passes: nudges in between share the next one."""


class MessageLoop:
    """Message passes every ``DOORCODE_MESSAGE_POLL_SECONDS``, and at once after a grant change.

    A commit that changed some lock's desired codes (a booking, a move, a cancellation) calls
    ``nudge`` from whatever thread committed it, so the guest's message is planned within a
    pass's time rather than a poll's. Nudges during a pass make one more pass, not one each,
    and passes start at most every ``WOKEN_GAP``: under a burst the loop plans in batches
    instead of competing with the bookings for the database.
    The timer stays: changes another process commits reach this loop only through it.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    def nudge(self, lock_ids: frozenset[str]) -> None:
        """A commit changed these locks' grants; safe to call from any thread.

        It runs in the commit hook of a request that has committed, so it never raises: a
        loop that closes between the check and the call needs no nudge.
        """
        loop = self._loop
        if lock_ids and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Pass, then wait for the poll interval or a nudge, until cancelled."""
        self._loop = loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        channels = channels_from_settings(self._runtime.settings)
        try:
            while True:
                self._wake.clear()
                started = loop.time()
                await _one_pass(self._runtime, channels)
                # Not wait_for: on 3.11 it drops a stop that arrives as a nudge wakes it.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._runtime.settings.message_poll_seconds):
                        await self._wake.wait()
                # Bookings arriving at 10 a second make one pass per gap, not ten.
                await asyncio.sleep(max(0.0, started + WOKEN_GAP - loop.time()))
        finally:
            channels.close()


async def _one_pass(runtime: Runtime, channels: Channels) -> None:
    try:
        await asyncio.to_thread(run_messages_once, runtime, channels)
    except Exception:
        logger.exception("the guest message pass failed; trying again at the next one")
