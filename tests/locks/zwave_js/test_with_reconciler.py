"""A booking's code on a simulated Z-Wave lock, end to end through the reconciler.

The lock comes in as an owner's would (a Z-Wave JS account connected, its nodes imported),
and everything after is doorcode's own passes against the real zwave-js driver: the code goes
on just before check-in in doorcode's first slot, moves with the dates (keeping its slot),
leaves at check-out, survives the doorcode process killed between the write and the record,
and a keypad opening with it becomes an access event of that grant. The radio is counted at
the lock itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from doorcode.services.access_events import grant_access_events
from doorcode.services.grants import regenerate_code, reveal_code
from doorcode.services.lock_import import import_locks
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import Lock
from doorcode.sync.access_poller import poll_access
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY, make_runtime
from tests.sync.helpers import event_kinds, reconcile, statuses

TODAY = date(2026, 11, 23)  # the clock fixture: 09:00 UTC
NODE = 2


def z_wave_locks(runtime, owner, peer):
    """Connect the peer as the owner's Z-Wave JS account and import its lock nodes."""
    request = account_request(runtime.providers, "zwave_js", "Home", {}, {"url": peer.url})
    connect_account(runtime.uow(), owner, request)
    asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Home"))
    with runtime.uow() as uow:
        locks = uow.session.scalars(select(Lock).order_by(Lock.external_id)).all()
    return {int(lock.external_id.rpartition(".")[2]): lock for lock in locks}


@pytest.fixture
def flat(runtime, zwave_peer):
    owner = make_owner(runtime)
    lock = z_wave_locks(runtime, owner, zwave_peer)[NODE]
    return owner, lock, make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")


def test_a_stays_code_comes_moves_and_goes_with_two_writes_and_two_reads(
    runtime, zwave_peer, flat, clock
):
    owner, lock, prop = flat
    stay = book(runtime, owner, prop, "B1", TODAY + timedelta(days=1), TODAY + timedelta(days=3))
    pin = reveal_code(runtime.uow(), owner, stay.grant.id)
    reconcile(runtime)
    assert zwave_peer.slots(NODE) == {}  # a lock without a schedule: not before check-in

    clock.now = stay.grant.starts_at - timedelta(minutes=30)
    reconcile(runtime)
    assert zwave_peer.slots(NODE) == {4: pin}  # slots 1-3 are the owner's
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}

    for _ in range(3):  # steady state: passes, a sweep, nothing reaches the lock
        reconcile(runtime, force=True)
    assert zwave_peer.frames(NODE) == {"UserCodeCCSet": 1, "UserCodeCCGet": 1}

    moved = book(runtime, owner, prop, "B1", TODAY + timedelta(days=1), TODAY + timedelta(days=4))
    reconcile(runtime)
    assert moved.grant.id == stay.grant.id
    assert zwave_peer.slots(NODE) == {4: pin}  # a later check-out: the code stays put

    clock.now = moved.grant.ends_at + timedelta(minutes=1)
    reconcile(runtime)
    assert zwave_peer.slots(NODE) == {}
    assert statuses(runtime, stay.grant.id) == {lock.id: "removed"}
    assert zwave_peer.frames(NODE) == {"UserCodeCCSet": 2, "UserCodeCCGet": 2}


def test_a_stay_moved_to_later_dates_leaves_the_lock_and_comes_back_to_its_slot(
    runtime, zwave_peer, flat, clock
):
    owner, _, prop = flat
    first = book(runtime, owner, prop, "B1", TODAY, TODAY + timedelta(days=2))
    clock.now = first.grant.starts_at + timedelta(hours=1)
    reconcile(runtime)
    pin = reveal_code(runtime.uow(), owner, first.grant.id)
    assert zwave_peer.slots(NODE) == {4: pin}
    later = book(runtime, owner, prop, "B1", TODAY + timedelta(days=5), TODAY + timedelta(days=7))
    reconcile(runtime)
    assert zwave_peer.slots(NODE) == {}
    clock.now = later.grant.starts_at - timedelta(minutes=30)
    reconcile(runtime)
    assert zwave_peer.slots(NODE) == {4: reveal_code(runtime.uow(), owner, first.grant.id)}


def test_a_keypad_opening_is_an_access_event_of_the_grant_whose_slot_it_names(
    runtime, zwave_peer, flat, clock
):
    owner, _, prop = flat
    stay = book(runtime, owner, prop, "B1", TODAY, TODAY + timedelta(days=2))
    clock.now = stay.grant.starts_at + timedelta(hours=1)
    reconcile(runtime)

    async def the_guest_arrives():
        await poll_access(runtime)  # doorcode listens, as `serve` does all along
        await asyncio.to_thread(zwave_peer.keypad, NODE, 4)
        async with asyncio.timeout(10):
            while not await asyncio.to_thread(
                grant_access_events, runtime.uow(), owner, stay.grant.id
            ):
                await poll_access(runtime)
                await asyncio.sleep(0.05)

    asyncio.run(the_guest_arrives())
    [event] = grant_access_events(runtime.uow(), owner, stay.grant.id)
    assert (event.outcome, event.method, event.code_ref) == ("opened", "keypad", "4")


def test_codes_no_grant_holds_in_doorcodes_range_go_and_the_owners_stay(
    runtime, zwave_peer, flat, clock
):
    owner, lock, prop = flat
    reconcile(runtime)  # the first inventory: an empty lock, so nothing there is the owner's
    zwave_peer.control("/fill", {"node": NODE, "code_from": 700000})
    stay = book(runtime, owner, prop, "B1", TODAY, TODAY + timedelta(days=2))
    clock.now = stay.grant.starts_at + timedelta(hours=1)
    reconcile(runtime)
    # codes typed since into doorcode's range (4-30) that no grant holds: cleared; 1-3 stay
    held = zwave_peer.slots(NODE)
    assert {slot: pin for slot, pin in held.items() if slot <= 3} == {
        1: "700001",
        2: "700002",
        3: "700003",
    }
    assert held[4] == reveal_code(runtime.uow(), owner, stay.grant.id)
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}


def test_a_lock_that_masks_pins_gets_a_regenerated_pin_in_the_grants_slot(
    runtime, zwave_peer, flat, clock
):
    zwave_peer.quirks(NODE, masked=True)  # a read shows a slot occupied, never its digits
    owner, lock, prop = flat
    stay = book(runtime, owner, prop, "B1", TODAY, TODAY + timedelta(days=2))
    clock.now = stay.grant.starts_at - timedelta(minutes=30)
    reconcile(runtime)
    regenerate_code(runtime.uow(), owner, stay.grant.id)  # the guest shared theirs
    pin = reveal_code(runtime.uow(), owner, stay.grant.id)
    reconcile(runtime)  # a fresh reconciler: only the database knows which PIN is there
    assert zwave_peer.slots(NODE) == {4: pin}
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}


def test_a_doorcode_process_killed_between_the_write_and_the_record_loses_nothing(
    sqlite_url, tmp_path, zwave_peer
):
    """A real `doorcode lock sync` process, SIGKILLed while it waits for the lock to confirm."""
    now = datetime.now(UTC)  # the killed process runs on the real clock: so does this test
    runtime = make_runtime(sqlite_url, lambda: datetime.now(UTC), tmp_path)
    try:
        owner = make_owner(runtime)
        lock = z_wave_locks(runtime, owner, zwave_peer)[NODE]
        prop = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
        today = now.date()
        stay = book(
            runtime, owner, prop, "B1", today - timedelta(days=1), today + timedelta(days=2)
        )
        pin = reveal_code(runtime.uow(), owner, stay.grant.id)

        zwave_peer.control("/hold", {"node": NODE})
        sync = _doorcode(sqlite_url, tmp_path, "lock", "sync")
        try:
            _until_held(zwave_peer, sync)
        finally:
            os.kill(sync.pid, signal.SIGKILL)
            sync.wait(timeout=10)
            zwave_peer.control("/release")
        assert zwave_peer.slots(NODE) == {4: pin}  # written, never recorded as set

        reconcile(runtime, force=True)  # the next process
        assert zwave_peer.slots(NODE) == {4: pin}
        assert statuses(runtime, stay.grant.id) == {lock.id: "set"}
        assert event_kinds(runtime, stay.grant.id)["LockCodeAdopted"] == 1
        assert zwave_peer.frames(NODE).get("UserCodeCCSet") == 1  # never written twice
    finally:
        runtime.close()


def _doorcode(database_url: str, data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOORCODE_DATABASE_URL": database_url,
        "DOORCODE_SECRET_KEY": TEST_KEY,
        "DOORCODE_DATA_DIR": str(data_dir),
        "DOORCODE_ORGANISATION": "acme",
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "doorcode"), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "doorcode.err").open("w"),
    )


def _until_held(peer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if peer.control("/held")["held"]:
            return
        if process.poll() is not None:
            said = Path(process.args[0]).name  # the command; its stderr is in the data dir
            raise AssertionError(f"{said} exited with {process.returncode} before writing")
        time.sleep(0.05)
    raise AssertionError("doorcode did not reach the lock within 30 s")
