"""The in-process runner: commits nudge it from any thread, due instants wake it on time."""

import asyncio
import contextlib
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorcode.api.app import create_app
from doorcode.background import background_jobs
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from doorcode.store.models import Event, Lock
from doorcode.sync import runner as runner_module
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from doorcode.sync.runner import SyncRunner
from tests.builders import book, make_lock, make_owner, make_property
from tests.conftest import make_runtime
from tests.sync.helpers import grants_on, statuses

TODAY = date(2026, 11, 23)


class ShiftedClock:
    """Real time, shifted to start at ``start``: the runner really sleeps until the instant."""

    def __init__(self, start):
        self.start, self.began = start, time.monotonic()

    def __call__(self):
        return self.start + timedelta(seconds=time.monotonic() - self.began)


async def eventually(condition, seconds=15.0):
    """Wait for ``condition``: the bound is for failing, generous for a loaded 2-core CI."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the runner did not get there in time"
        await asyncio.sleep(0.02)


def runner_for(runtime, sweep=timedelta(hours=12)):
    runner = SyncRunner(Reconciler.from_runtime(runtime), runtime.clock, sweep)
    runtime.commit_hooks.append(runner.nudge)
    return runner


def test_a_booking_committed_in_another_thread_reaches_the_lock_at_once(runtime):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC")
    install_virtual_locks(runtime)
    runner = runner_for(runtime)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.2)  # the first sweep finds nothing to do
        booked = {}
        thread = threading.Thread(
            target=lambda: booked.update(
                grant=book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
            )
        )
        thread.start()
        thread.join()
        await eventually(lambda: grants_on(runtime, flat.locks[0]) == [booked["grant"].id], 10)
        task.cancel()

    asyncio.run(scenario())


def test_a_booking_another_process_commits_reaches_the_lock_within_seconds(
    runtime, sqlite_url, clock, tmp_path
):
    """The CLI or a second API process writes the same database but cannot nudge this loop."""
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC")
    install_virtual_locks(runtime)
    runner = runner_for(runtime)
    elsewhere = make_runtime(sqlite_url, clock, tmp_path / "elsewhere")

    async def scenario():
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.2)  # the first sweep finds nothing to do
        grant = book(elsewhere, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
        # Seen by the 1 s watch, not by the 12 h sweep: 15 s still tells them apart.
        await eventually(lambda: grants_on(runtime, flat.locks[0]) == [grant.id], 15)
        task.cancel()

    try:
        asyncio.run(scenario())
    finally:
        elsewhere.close()


def test_a_lock_is_visited_at_its_next_change_instant_not_at_the_next_sweep(runtime, clock):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Door", LockCapabilities(native_scheduling=False))
    flat = make_property(runtime, owner, "Flat", locks=[door], time_zone="UTC")
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=1)).grant
    install_virtual_locks(runtime)
    due = datetime(2026, 11, 23, 14, tzinfo=UTC)  # an hour before the 15:00 check-in
    # Far enough ahead that a slow start-up cannot already be past the instant.
    runtime.clock = ShiftedClock(due - timedelta(seconds=3))
    runner = runner_for(runtime)

    def created_at():
        with runtime.uow() as uow:
            return uow.session.scalar(
                select(Event.occurred_at).where(Event.kind == "LockCodeCreated")
            )

    async def scenario():
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.5)
        assert grants_on(runtime, door) == []
        # The pass commits its events after the provider call: wait for both, then stop it.
        await eventually(lambda: created_at() is not None, 20)
        assert grants_on(runtime, door) == [grant.id]
        task.cancel()

    asyncio.run(scenario())
    created = created_at()
    # At the instant, not at the next sweep twelve hours on; the margin absorbs a busy machine.
    assert due <= created < due + timedelta(seconds=15)


def test_a_failing_pass_is_logged_and_the_loop_goes_on(runtime, caplog, monkeypatch):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC")
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    install_virtual_locks(runtime)
    runner = runner_for(runtime)
    monkeypatch.setattr("doorcode.sync.runner._AFTER_A_CRASH", 0.05)
    real = Reconciler.reconcile
    failures = []

    async def flaky(self, lock_ids, **options):
        if not failures:
            failures.append("once")
            raise RuntimeError("database went away")
        return await real(self, lock_ids, **options)

    monkeypatch.setattr(Reconciler, "reconcile", flaky)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: len(grants_on(runtime, flat.locks[0])) == 1, 15)
        task.cancel()

    asyncio.run(scenario())
    assert "lock sync pass failed" in caplog.text


def test_serve_runs_the_runner_and_an_api_booking_programs_the_lock(runtime):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC", external_id="f1")
    key = create_api_key(runtime.uow(), owner, "pms", Role.MANAGER).secret
    app = create_app(runtime, background_jobs(runtime))
    with TestClient(app) as client:
        install_virtual_locks(runtime)
        answer = client.post(
            "/api/v1/reservations",
            json={
                "external_id": "B1",
                "property": "f1",
                "check_in": "2026-11-23",
                "check_out": "2026-11-25",
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        grant_id = answer.json()["grant_id"]
        deadline = time.monotonic() + 15
        while grants_on(runtime, flat.locks[0]) != [grant_id]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert answer.status_code == 201


def every_lock_passed(runtime):
    with runtime.uow() as uow:
        return all(lock.synced_at is not None for lock in uow.session.scalars(select(Lock)))


class HangingDevice:
    """Holds every ``list_codes`` call on the devices until released; counts calls in flight."""

    def __init__(self, runtime, *device_ids):
        self.provider = runtime.providers.shared("virtual")
        self.device_ids = set(device_ids)
        self.release = asyncio.Event()
        self.armed = False
        self.in_flight = self.most_in_flight = self.calls = 0
        real = self.provider.list_codes

        async def list_codes(device):
            if device not in self.device_ids or not self.armed:
                return await real(device)
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await self.release.wait()
                return await real(device)
            finally:
                self.in_flight -= 1

        self.provider.list_codes = list_codes


def test_a_booking_reaches_its_lock_while_another_locks_pass_hangs(runtime):
    owner = make_owner(runtime)
    slow = make_property(runtime, owner, "Slow flat", time_zone="UTC")
    quick = make_property(runtime, owner, "Quick flat", time_zone="UTC")
    install_virtual_locks(runtime)
    hanging = HangingDevice(runtime, slow.locks[0].external_id)
    runner = runner_for(runtime)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: every_lock_passed(runtime), 15)  # the first sweep
        hanging.armed = True
        stuck = book(runtime, owner, slow, "B1", TODAY, TODAY + timedelta(days=2)).grant
        await eventually(lambda: hanging.calls == 1, 15)
        grant = book(runtime, owner, quick, "B2", TODAY, TODAY + timedelta(days=2)).grant
        await eventually(lambda: grants_on(runtime, quick.locks[0]) == [grant.id], 15)
        assert grants_on(runtime, slow.locks[0]) == []
        hanging.release.set()
        await eventually(lambda: grants_on(runtime, slow.locks[0]) == [stuck.id], 15)
        task.cancel()

    asyncio.run(scenario())


def test_a_booking_reaches_its_lock_while_as_many_rounds_as_allowed_hang(runtime, monkeypatch):
    """The bound is on locks in flight: rounds of one hanging lock each do not use it up."""
    monkeypatch.setattr(runner_module, "MAX_ROUNDS", 2)
    owner = make_owner(runtime)
    slow = [make_property(runtime, owner, f"Slow flat {n}", time_zone="UTC") for n in range(2)]
    quick = make_property(runtime, owner, "Quick flat", time_zone="UTC")
    install_virtual_locks(runtime)
    hanging = HangingDevice(runtime, *(flat.locks[0].external_id for flat in slow))
    runner = runner_for(runtime)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: every_lock_passed(runtime), 15)  # the first sweep
        hanging.armed = True
        for number, flat in enumerate(slow, start=1):  # each alone: a round of its own
            book(runtime, owner, flat, f"S{number}", TODAY, TODAY + timedelta(days=2))
            await eventually(lambda number=number: hanging.calls == number, 15)
        grant = book(runtime, owner, quick, "B2", TODAY, TODAY + timedelta(days=2)).grant
        await eventually(lambda: grants_on(runtime, quick.locks[0]) == [grant.id], 15)
        hanging.release.set()
        await eventually(lambda: all(grants_on(runtime, flat.locks[0]) for flat in slow), 15)
        task.cancel()

    asyncio.run(scenario())


def test_locks_found_pending_together_are_passed_and_recorded_apart(runtime):
    """With one pass at a time per round, a round of two would hold the second behind the first."""
    owner = make_owner(runtime)
    slow = make_property(runtime, owner, "Slow flat", time_zone="UTC")
    quick = make_property(runtime, owner, "Quick flat", time_zone="UTC")
    install_virtual_locks(runtime)
    hanging = HangingDevice(runtime, slow.locks[0].external_id)
    reconciler = Reconciler(
        uow_factory=runtime.uow,
        providers=runtime.providers,
        cipher=runtime.cipher,
        clock=runtime.clock,
        rng=runtime.rng,
        concurrency=1,
    )
    runner = SyncRunner(reconciler, runtime.clock, timedelta(hours=12))

    async def scenario():
        await runner.run_once()  # the first sweep
        hanging.armed = True
        book(runtime, owner, slow, "B1", TODAY, TODAY + timedelta(days=2))
        grant = book(runtime, owner, quick, "B2", TODAY, TODAY + timedelta(days=2)).grant
        passing = asyncio.create_task(runner.run_once())  # finds both locks pending at once
        # The two passes run side by side: on a busy machine the quick one may finish before
        # the slow one has reached its lock, so neither is assumed to come first.
        await eventually(
            lambda: (
                hanging.calls == 1 and statuses(runtime, grant.id) == {quick.locks[0].id: "set"}
            ),
            15,
        )
        assert grants_on(runtime, quick.locks[0]) == [grant.id]
        assert grants_on(runtime, slow.locks[0]) == []
        hanging.release.set()
        await asyncio.wait_for(passing, 15)

    asyncio.run(scenario())


def test_a_booking_on_a_lock_the_sweep_has_not_reached_does_not_wait_for_its_batch(runtime):
    """The sweep takes only the locks it passes at once: the others stay free for bookings."""
    owner = make_owner(runtime)
    flats = [make_property(runtime, owner, f"Flat {n}", time_zone="UTC") for n in range(2)]
    install_virtual_locks(runtime)
    reconciler = Reconciler(
        uow_factory=runtime.uow,
        providers=runtime.providers,
        cipher=runtime.cipher,
        clock=runtime.clock,
        rng=runtime.rng,
        concurrency=1,
    )
    first_swept = reconciler.every_lock()[0]
    slow, quick = sorted(flats, key=lambda flat: flat.locks[0].id != first_swept)
    hanging = HangingDevice(runtime, slow.locks[0].external_id)
    hanging.armed = True
    runner = SyncRunner(reconciler, runtime.clock, timedelta(hours=12))
    runtime.commit_hooks.append(runner.nudge)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: hanging.calls == 1, 15)  # the sweep's first lock hangs
        grant = book(runtime, owner, quick, "B1", TODAY, TODAY + timedelta(days=2)).grant
        await eventually(lambda: grants_on(runtime, quick.locks[0]) == [grant.id], 15)
        hanging.release.set()
        await eventually(lambda: every_lock_passed(runtime), 15)
        task.cancel()

    asyncio.run(scenario())


def test_a_lock_changed_during_its_pass_gets_a_second_pass_after_not_beside_it(runtime):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC")
    install_virtual_locks(runtime)
    hanging = HangingDevice(runtime, flat.locks[0].external_id)
    runner = runner_for(runtime)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: every_lock_passed(runtime), 15)  # the first sweep
        hanging.armed = True
        first = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
        await eventually(lambda: hanging.calls == 1, 15)
        second = book(
            runtime, owner, flat, "B2", TODAY + timedelta(days=2), TODAY + timedelta(days=3)
        )
        await asyncio.sleep(0.3)  # nudged twice while the pass hangs: no pass starts beside it
        assert hanging.calls == 1
        hanging.release.set()
        expected = sorted([first.id, second.grant.id])
        await eventually(lambda: grants_on(runtime, flat.locks[0]) == expected, 15)
        task.cancel()

    asyncio.run(scenario())
    assert hanging.most_in_flight == 1


@contextlib.contextmanager
def a_loop_closing_under_a_nudge():
    """A loop that closed after the nudge checked it: ``is_closed`` still said no."""
    loop = asyncio.new_event_loop()
    loop.close()
    loop.is_closed = lambda: False
    try:
        yield loop
    finally:
        del loop.is_closed  # closed for good, so it is not closed again when collected


def test_a_nudge_to_a_loop_closing_at_that_moment_does_not_fail_the_commit(runtime):
    runner = runner_for(runtime)
    with a_loop_closing_under_a_nudge() as closing:
        runner._loop = closing
        runner.nudge(frozenset({"lck_1"}))  # raised RuntimeError in a committed request's hook
    assert runner._nudged_early.is_set()  # the next run looks at once


def test_stopping_the_runner_waits_for_the_passes_it_cancels(runtime, monkeypatch):
    """A pass writes its records after a cancel; the runtime must not close under it."""
    make_property(runtime, make_owner(runtime), "Flat", time_zone="UTC")
    install_virtual_locks(runtime)
    runner = runner_for(runtime)
    steps = []

    async def hanging(self, lock_ids, **options):
        steps.append("passing")
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.to_thread(steps.append, "recorded")  # a write, off the loop

    monkeypatch.setattr(Reconciler, "reconcile", hanging)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await eventually(lambda: steps == ["passing"])
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 5)
        assert steps == ["passing", "recorded"]

    asyncio.run(scenario())


def test_a_runner_told_to_stop_as_a_nudge_wakes_it_stops(runtime):
    # serve's shutdown cancels the runner; a booking's nudge at that moment must not undo it
    # (asyncio.wait_for on Python 3.11 dropped the cancellation and the shutdown hung).
    runner = runner_for(runtime)

    async def scenario():
        runner._wake = asyncio.Event()
        sleeping = asyncio.create_task(runner._sleep_until(runtime.clock() + timedelta(hours=1)))
        await asyncio.sleep(0)  # asleep until the hour is up or a nudge comes
        runner._wake.set()
        assert sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(sleeping, timeout=5)

    asyncio.run(scenario())
