"""The message loop of ``doorcode serve``: a booking's message is planned at once."""

import asyncio
import time
from datetime import timedelta

from doorcode.notify.loop import MessageLoop
from doorcode.services.messages import list_messages
from doorcode.store.message_repository import MessageFilter
from tests.builders import book, make_owner, make_property
from tests.sync.test_runner import a_loop_closing_under_a_nudge


def test_a_booking_committed_between_polls_has_its_message_planned_at_once(runtime, clock):
    runtime.settings.message_poll_seconds = 3600
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC")
    loop = MessageLoop(runtime)
    runtime.commit_hooks.append(loop.nudge)

    def planned():
        return [
            entry.message.grant_id for entry in list_messages(runtime.uow(), owner, MessageFilter())
        ]

    async def scenario():
        task = asyncio.create_task(loop.run())
        await asyncio.sleep(0.3)  # the first pass finds nothing; the next poll is an hour away
        today = clock.now.date()
        grant = await asyncio.to_thread(
            lambda: (
                book(
                    runtime, owner, flat, "B1", today + timedelta(days=1), today + timedelta(days=3)
                ).grant
            )
        )
        deadline = time.monotonic() + 15  # an hour's poll still fails it; a busy CI does not
        while planned() != [grant.id]:
            assert time.monotonic() < deadline, "the booking's message waited for the poll"
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(scenario())


def test_a_nudge_to_a_loop_closing_at_that_moment_does_not_fail_the_commit(runtime):
    """The hook runs after the request committed: a loop gone needs no nudge, and no error."""
    loop = MessageLoop(runtime)
    with a_loop_closing_under_a_nudge() as closing:
        loop._loop = closing
        loop.nudge(frozenset({"lck_1"}))  # raised RuntimeError before


def test_a_loop_told_to_stop_as_a_nudge_wakes_it_stops(runtime):
    # serve's shutdown cancels the loop; a nudge at that moment must not undo it.
    runtime.settings.message_poll_seconds = 3600
    loop = MessageLoop(runtime)

    async def scenario():
        task = asyncio.create_task(loop.run())
        deadline = time.monotonic() + 15
        while not (loop._wake is not None and loop._wake._waiters):  # waiting for the poll
            assert time.monotonic() < deadline, "the loop never began to wait"
            await asyncio.sleep(0.01)
        loop._wake.set()
        assert task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, "the loop went on after it was told to stop"
        assert task.cancelled()

    asyncio.run(scenario())
