"""An online lock that cannot take a guest's PIN in time: its offline code stands in (seed 001)."""

import threading
import time
from datetime import date, timedelta

import psycopg
import pytest
from sqlalchemy import select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import VendorOfflineCode
from doorcode.services import offline_codes
from doorcode.services.grants import reveal_access
from doorcode.store.database import libpq_url
from doorcode.store.models import Alert, LockCode
from doorcode.sync.vendor_offline import IssuedVendorCode, store_vendor_code
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, event_kinds, reconcile

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day
ARRIVAL, DEPARTURE = TODAY + timedelta(days=5), TODAY + timedelta(days=7)
ONLINE_WITH_OFFLINE_CODES = LockCapabilities(offline_codes=True)


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


def garden_flat(runtime, owner, *, key_group=True):
    gate = make_lock(runtime, owner, "Garden gate", ONLINE_WITH_OFFLINE_CODES)
    if key_group:
        offline_codes.create_key_group(runtime.uow(), owner, "garden", (gate.id,))
        offline_codes.provision_virtual_locks(runtime.uow(), owner, runtime.providers, "garden")
    return gate, make_property(runtime, owner, "Flat", locks=[gate], time_zone="UTC")


def offline_before_its_lead_time(runtime, clock, gate, booked):
    """The gate drops off the network before its PIN is due, and stays off."""
    reconcile(runtime)  # installs the device; the PIN is not due yet
    cloud_of(runtime).go_offline(gate.external_id, clock.now + timedelta(days=30))
    clock.now = booked.grant.starts_at - timedelta(hours=20)
    reconcile(runtime)


def stand_in(runtime, owner, grant_id, lock):
    offline = reveal_access(runtime.uow(), owner, grant_id).offline
    return {access.lock_id: access.code for access in offline}.get(lock.id)


def test_a_lock_offline_at_programming_time_gets_the_guest_an_offline_code(runtime, owner, clock):
    gate, flat = garden_flat(runtime, owner)
    booked = book(runtime, owner, flat, "B1", ARRIVAL, DEPARTURE)
    offline_before_its_lead_time(runtime, clock, gate, booked)
    code = stand_in(runtime, owner, booked.grant.id, gate)
    assert code is not None
    kinds = event_kinds(runtime, booked.grant.id)
    assert (kinds["OfflineFallbackIssued"], kinds["GrantCodesSet"]) == (1, 1)
    with runtime.uow() as uow:
        assert [a.kind for a in uow.session.scalars(select(Alert))] == ["GrantCodeMissing"]
    check_in = booked.grant.starts_at + timedelta(minutes=5)
    assert cloud_of(runtime).enter(gate.external_id, code, check_in).opened
    reconcile(runtime)
    assert event_kinds(runtime, booked.grant.id)["OfflineFallbackIssued"] == 1


def test_far_from_arrival_nothing_stands_in_yet(runtime, owner, clock):
    gate, flat = garden_flat(runtime, owner)
    booked = book(runtime, owner, flat, "B1", ARRIVAL, DEPARTURE)
    reconcile(runtime)
    cloud_of(runtime).go_offline(gate.external_id, clock.now + timedelta(days=30))
    clock.now = booked.grant.starts_at - timedelta(hours=48)
    reconcile(runtime)
    assert stand_in(runtime, owner, booked.grant.id, gate) is None


def test_moved_dates_block_the_stand_in_and_a_new_one_comes_when_needed(runtime, owner, clock):
    gate, flat = garden_flat(runtime, owner)
    booked = book(runtime, owner, flat, "B1", ARRIVAL, DEPARTURE)
    offline_before_its_lead_time(runtime, clock, gate, booked)
    first = stand_in(runtime, owner, booked.grant.id, gate)
    moved = book(runtime, owner, flat, "B1", ARRIVAL + timedelta(days=1), DEPARTURE).grant
    assert stand_in(runtime, owner, booked.grant.id, gate) is None
    [(_, sequence)] = offline_codes.pending_blocks(runtime.uow(), owner, "garden")
    assert sequence.keys.endswith(f"#{first}#")
    clock.now = moved.starts_at - timedelta(hours=20)
    reconcile(runtime)
    assert stand_in(runtime, owner, booked.grant.id, gate) not in (None, first)


def test_a_lock_outside_any_key_group_only_raises_the_alert(runtime, owner, clock):
    gate, flat = garden_flat(runtime, owner, key_group=False)
    booked = book(runtime, owner, flat, "B1", ARRIVAL, DEPARTURE)
    offline_before_its_lead_time(runtime, clock, gate, booked)
    assert reveal_access(runtime.uow(), owner, booked.grant.id).offline == ()
    assert "GrantCodesSet" not in event_kinds(runtime, booked.grant.id)
    with runtime.uow() as uow:
        assert [a.kind for a in uow.session.scalars(select(Alert))] == ["GrantCodeMissing"]


def test_two_locks_of_one_key_group_stand_in_with_one_code_and_one_window(runtime, owner, clock):
    gate = make_lock(runtime, owner, "Garden gate", ONLINE_WITH_OFFLINE_CODES)
    door = make_lock(runtime, owner, "Front door", ONLINE_WITH_OFFLINE_CODES)
    offline_codes.create_key_group(runtime.uow(), owner, "garden", (gate.id, door.id))
    offline_codes.provision_virtual_locks(runtime.uow(), owner, runtime.providers, "garden")
    flat = make_property(runtime, owner, "Flat", locks=[gate, door], time_zone="UTC")
    booked = book(runtime, owner, flat, "B1", ARRIVAL, DEPARTURE)
    reconcile(runtime)
    for lock in (gate, door):
        cloud_of(runtime).go_offline(lock.external_id, clock.now + timedelta(days=30))
    clock.now = booked.grant.starts_at - timedelta(hours=20)
    reconcile(runtime)
    offline = reveal_access(runtime.uow(), owner, booked.grant.id).offline
    assert {access.lock_id for access in offline} == {gate.id, door.id}
    [(code, window)] = {(access.code, access.window) for access in offline}
    assert window.starts_at <= booked.grant.starts_at < booked.grant.ends_at <= window.ends_at
    check_in = booked.grant.starts_at + timedelta(minutes=5)
    for lock in (gate, door):
        assert cloud_of(runtime).enter(lock.external_id, code, check_in).opened


def vendor_code_for(grant, lock, window, *, version=None):
    """A vendor offline code a pass obtained for ``grant`` on ``lock``, not stored yet."""
    issued = VendorOfflineCode("58203917", window, "ref_1", ("use it within 24 hours",))
    version = grant.version if version is None else version
    return IssuedVendorCode(
        grant.organisation_id, grant.id, lock.id, lock.name, version, "ttlock", issued, "offline"
    )


def held_vendor_code(runtime, grant_id, lock_id):
    with runtime.uow() as uow:
        return uow.offline.offline_code_of(uow.session.get(LockCode, (grant_id, lock_id)))


def stay_of(grant):
    return TimeWindow(grant.starts_at, grant.ends_at)


def test_a_vendor_code_asked_for_the_longer_stay_is_not_stored_for_the_shortened_one(
    runtime, owner
):
    gate, flat = garden_flat(runtime, owner, key_group=False)
    book(runtime, owner, flat, "r1", ARRIVAL, DEPARTURE + timedelta(days=2))
    grant = book(runtime, owner, flat, "r1", ARRIVAL, DEPARTURE).grant  # shortened
    longer = TimeWindow(grant.starts_at, grant.ends_at + timedelta(days=2))
    with runtime.uow() as uow:
        assert store_vendor_code(uow, vendor_code_for(grant, gate, longer)) is None
        uow.commit()
    assert held_vendor_code(runtime, grant.id, gate.id) is None
    with runtime.uow() as uow:
        assert store_vendor_code(uow, vendor_code_for(grant, gate, stay_of(grant))) is not None
        uow.commit()
    assert held_vendor_code(runtime, grant.id, gate.id) == "58203917"


@pytest.mark.postgres
def test_a_vendor_code_waits_for_a_move_of_its_stay_committing_meanwhile(pg_runtime, postgres_url):
    owner = make_owner(pg_runtime)
    gate, flat = garden_flat(pg_runtime, owner, key_group=False)
    grant = book(pg_runtime, owner, flat, "r1", ARRIVAL, DEPARTURE).grant
    found = vendor_code_for(grant, gate, stay_of(grant))
    url = libpq_url(postgres_url)
    with psycopg.connect(url) as mover:
        mover.execute("UPDATE grants SET version = version + 1 WHERE id = %s", (grant.id,))
        answers: list[object] = []

        def store() -> None:
            with pg_runtime.uow() as uow:
                answers.append(store_vendor_code(uow, found))
                uow.commit()

        storing = threading.Thread(target=store, daemon=True)
        storing.start()
        waited = _waits_for_a_lock(url, storing)
        mover.commit()
        storing.join(timeout=10)
    assert not storing.is_alive(), "storing the vendor code never finished"
    assert waited, "storing the vendor code did not wait for the grant's row"
    assert answers == [None]
    assert held_vendor_code(pg_runtime, grant.id, gate.id) is None


def _waits_for_a_lock(url, thread, seconds=20.0):
    """Whether another session waits for a row lock before ``thread`` ends (bounded).

    The bound is for failing only (it returns once the wait is seen, or the thread ended):
    the thread connects and reads before it reaches the lock, seconds on a loaded CI."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as watcher:
        while time.monotonic() < deadline and thread.is_alive():
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if waiting and waiting[0]:
                return True
            time.sleep(0.02)
    return False
