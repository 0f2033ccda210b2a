"""A booking's code on a simulated zigbee2mqtt lock, through the reconciler: it arrives in a
slot doorcode owns, moves with the dates, leaves at check-out, survives the doorcode process
killed mid-write, and a keypad opening with it is an access event of the grant."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from doorcode.locks.zigbee2mqtt import radio_operations
from doorcode.locks.zigbee2mqtt.simulator import LockBehaviour
from doorcode.services.access_events import grant_access_events
from doorcode.services.grants import reveal_code
from doorcode.services.lock_import import import_locks
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import Lock
from doorcode.sync.access_poller import poll_access
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.locks.zigbee2mqtt.conftest import ANSWER_TIMEOUT
from tests.locks.zigbee2mqtt.sync_once import KEY_ENV
from tests.sync.helpers import event_kinds, reconcile, statuses

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day
FIRST_OWNED = 4  # BE468: 30 slots, the first 3 left to the owner
ROOT = Path(__file__).parents[3]
RUNNER = "tests.locks.zigbee2mqtt.sync_once"


@pytest.fixture
def door(runtime, bridge):
    """A Schlage BE468 on the bridge, imported as an owner would, in a flat of its own."""
    bridge.add_lock("Flat door", model="BE468", vendor="Schlage", slots=30)
    return imported(runtime, bridge, "Flat door")


def imported(runtime, bridge, name, **options):
    """The bridge's lock ``name`` imported through an account (extra ``options``), in a flat."""
    owner = make_owner(runtime)
    options = {
        "host": bridge.host,
        "port": str(bridge.port),
        "base_topic": bridge.base_topic,
        "answer_timeout": ANSWER_TIMEOUT,
    } | options
    request = account_request(runtime.providers, "zigbee2mqtt", "Home zigbee", {}, options)
    connect_account(runtime.uow(), owner, request)
    asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Home zigbee"))
    with runtime.uow() as uow:
        lock = uow.locks.find(owner.organisation_id, bridge.locks[name].ieee)
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    return owner, lock, flat


def on_lock(bridge) -> dict[int, str]:
    """doorcode's slot -> PIN of what the simulated lock holds."""
    return {user + 1: pin for user, pin in bridge.held("Flat door").items()}


def test_a_stays_code_arrives_in_the_first_owned_slot_moves_and_leaves(
    runtime, bridge, door, clock
):
    owner, lock, flat = door
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    code = reveal_code(runtime.uow(), owner, stay.grant.id)
    clock.advance(hours=5)
    reconcile(runtime)
    assert on_lock(bridge) == {FIRST_OWNED: code}
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}

    book(runtime, owner, flat, "B1", TODAY + timedelta(days=3), TODAY + timedelta(days=5))
    reconcile(runtime)
    assert on_lock(bridge) == {}  # not before its new window

    clock.advance(days=3)
    reconcile(runtime)
    assert on_lock(bridge) == {FIRST_OWNED: code}  # the same slot, kept for the grant's life

    clock.advance(days=2, hours=2)  # past check-out
    reconcile(runtime)
    assert on_lock(bridge) == {}
    assert bridge.received[("Flat door", "set")] == 4  # two writes and two clears


def test_repeated_passes_cost_no_radio_once_the_code_is_set(runtime, bridge, door, clock):
    owner, _, flat = door
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    clock.advance(hours=5)
    reconcile(runtime)
    sent = sum(bridge.received.values())
    for _ in range(3):
        clock.advance(minutes=10)
        reconcile(runtime, force=True)
    assert sum(bridge.received.values()) == sent


def test_a_keypad_opening_is_an_access_event_of_the_grant(runtime, bridge, door, clock):
    owner, _, flat = door
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    code = reveal_code(runtime.uow(), owner, stay.grant.id)
    clock.advance(hours=7)
    reconcile(runtime)
    assert bridge.keypad("Flat door", code)
    deadline = time.monotonic() + 10
    while not grant_access_events(runtime.uow(), owner, stay.grant.id):
        assert time.monotonic() < deadline, "the opening never became an access event"
        asyncio.run(asyncio.wait_for(poll_access(runtime), 20))
        time.sleep(0.05)
    [event] = grant_access_events(runtime.uow(), owner, stay.grant.id)
    assert event.outcome == "opened"


def test_a_process_killed_mid_write_leaves_a_code_the_next_pass_adopts(
    runtime, bridge, door, clock, sqlite_url, tmp_path
):
    owner, lock, flat = door
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    code = reveal_code(runtime.uow(), owner, stay.grant.id)
    clock.advance(hours=5)
    bridge.locks["Flat door"].sleeps_after_set = True  # the read-back never comes
    log = tmp_path / "sync.log"
    with log.open("wb") as errors:  # a file: a full pipe would block the process
        process = subprocess.Popen(
            [sys.executable, "-m", RUNNER, sqlite_url, str(tmp_path), clock().isoformat()],
            cwd=ROOT,
            env={**os.environ, KEY_ENV: TEST_KEY},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 20
        while bridge.received[("Flat door", "set")] < 1:
            assert process.poll() is None, f"the sync process ended: {log.read_text()[-800:]}"
            assert time.monotonic() < deadline, "the sync process never wrote"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert on_lock(bridge) == {FIRST_OWNED: code}

    bridge.locks["Flat door"].asleep = bridge.locks["Flat door"].sleeps_after_set = False
    reconcile(runtime, force=True)
    assert on_lock(bridge) == {FIRST_OWNED: code}
    assert bridge.received[("Flat door", "set")] == 1  # adopted, not written again
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}
    assert event_kinds(runtime, stay.grant.id)["LockCodeAdopted"] == 1


def test_codes_on_the_lock_at_its_first_inventory_stay_and_the_guest_takes_a_free_slot(
    runtime, bridge, door, clock
):
    owner, lock, flat = door
    bridge.put("Flat door", 0, "111111")  # slot 1: the family's
    bridge.put("Flat door", 3, "222222")  # slot 4: in doorcode's range, set before doorcode
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    clock.advance(hours=5)
    reconcile(runtime)
    held = on_lock(bridge)
    assert (held[1], held[4]) == ("111111", "222222")
    assert held[5] == reveal_code(runtime.uow(), owner, stay.grant.id)
    assert isinstance(lock, Lock)


def test_two_weeks_of_stays_cost_two_writes_and_two_reads_each_and_nothing_between(
    runtime, bridge, door, clock
):
    """The radio budget of issue 13: one inventory, then per stay a write and a read at
    check-in and at check-out, and nothing from the passes in between."""
    owner, lock, flat = door
    stays = 4
    for n in range(stays):  # back to back: a same-day turnover every third day
        book(
            runtime,
            owner,
            flat,
            f"B{n}",
            TODAY + timedelta(days=3 * n),
            TODAY + timedelta(days=3 * n + 3),
        )
    for _ in range(4 * 3 * stays + 4):  # every 6 hours, past the last check-out
        reconcile(runtime)
        clock.advance(hours=6)
    reconcile(runtime)
    assert on_lock(bridge) == {}
    with runtime.uow() as uow:
        account_id = uow.locks.get(owner.organisation_id, lock.id).account_id
    ops = radio_operations(runtime.providers.links, account_id)
    assert (ops.sets, ops.gets) == (2 * stays, 30 + 2 * stays)
    assert bridge.received[("Flat door", "set")] == ops.sets
    assert bridge.received[("Flat door", "get")] == ops.gets


def test_a_write_only_locks_code_leaves_at_check_out_after_a_restart(runtime, bridge, clock):
    """The new process's link has heard nothing of the code: the records say it is there."""
    bridge.add_lock("Gate", behaviour=LockBehaviour.WRITE_ONLY, model="GATE-1", vendor="X")
    owner, _lock, flat = imported(runtime, bridge, "Gate", slots="Gate=20", write_only="Gate")
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    code = reveal_code(runtime.uow(), owner, stay.grant.id)
    clock.advance(hours=5)
    reconcile(runtime)
    assert bridge.held("Gate") == {FIRST_OWNED - 1: code}
    runtime.providers.links.close()  # a restart: the next pass builds a new link
    clock.advance(days=2)  # past check-out
    reconcile(runtime)
    assert bridge.held("Gate") == {}
    assert bridge.received[("Gate", "get")] == 0


def test_a_reimport_that_changes_the_slot_count_keeps_a_guest_in_their_slot(runtime, bridge, clock):
    """A small lock is all doorcode's; told later it has 30 slots, its default range would
    start at 4 and leave out slot 1, where a guest's code is."""
    door = bridge.add_lock("Flat door", model="TINY-1", vendor="X", slots=30)
    owner, lock, flat = imported(runtime, bridge, "Flat door", slots="TINY-1=6")
    stay = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    code = reveal_code(runtime.uow(), owner, stay.grant.id)
    clock.advance(hours=5)
    reconcile(runtime)
    assert on_lock(bridge) == {1: code}

    door.model = "BE468"  # zigbee2mqtt now names it a Schlage BE468: 30 slots
    bridge.add_lock("Garage", model="GATE-1", vendor="X")  # pairing one republishes the list
    deadline = time.monotonic() + 10
    while (
        "Flat door"
        not in asyncio.run(
            import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Home zigbee")
        ).changed
    ):
        assert time.monotonic() < deadline, "the new device list never reached the import"
        time.sleep(0.05)
    reconcile(runtime)
    assert on_lock(bridge) == {1: code}  # neither taken for the owner's nor written again
    assert statuses(runtime, stay.grant.id) == {lock.id: "set"}
    clock.advance(days=2)  # past check-out
    reconcile(runtime)
    assert on_lock(bridge) == {}
