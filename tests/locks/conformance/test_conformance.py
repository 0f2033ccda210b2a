"""The reconciler's guarantees, proved against every back-end and its test peer.

Convergence, crash safety (a tagged code left by a crash is adopted, not set twice), no
duplicate however often a pass runs, revoke; and every vendor exception leaves as a
``ProviderError``. A back-end joins by appending to ``backends.BACKENDS`` / ``VENDOR_FAULTS``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from doorcode.domain.lock_capabilities import capabilities_from_json
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import NewCode
from doorcode.locks.errors import ProviderError
from doorcode.locks.tags import grant_id_from_tag, tag_for
from doorcode.services.reservations import cancel_reservation
from tests.builders import book, make_owner, make_property
from tests.locks.conformance.backends import BACKENDS, VENDOR_FAULTS, Backend, Peer
from tests.sync.helpers import event_kinds, reconcile, statuses

TODAY = date(2026, 11, 23)


@pytest.fixture(params=BACKENDS, ids=[backend.name for backend in BACKENDS])
def peer(request: pytest.FixtureRequest) -> Peer:
    backend: Backend = request.param
    return backend.peer(request)


@pytest.fixture
def world(runtime, peer, clock):
    """A flat with a street door and a flat door; three stays, the first due within 72 h.

    Locks that keep no schedule (Z-Wave, Zigbee slots) take a code only just before its window
    opens: on those the clock then stands half an hour before the first stay.
    """
    owner = make_owner(runtime)
    locks = peer.add_locks(runtime, owner, ["Street door", "Flat door"])
    flat = make_property(runtime, owner, "Flat", locks=locks, time_zone="UTC")
    stays = [
        book(
            runtime,
            owner,
            flat,
            f"B{n}",
            TODAY + timedelta(days=1 + 4 * n),
            TODAY + timedelta(days=3 + 4 * n),
        )
        for n in range(3)
    ]
    if not any(capabilities_from_json(lock.capabilities).native_scheduling for lock in locks):
        clock.now = stays[0].grant.starts_at - timedelta(minutes=30)
    return owner, locks, stays


def held_grants(runtime, peer, lock):
    return sorted(
        grant_id_from_tag(name) or f"theirs:{name}" for name, _ in peer.held(runtime, lock)
    )


def settle(runtime, peer):
    """A pass, the devices confirm what they accepted, and a pass that reads it back."""
    reconcile(runtime)
    peer.confirm_all(runtime)
    reconcile(runtime, force=True)


def test_every_lock_converges_to_exactly_the_codes_due(runtime, peer, world):
    _, locks, stays = world
    settle(runtime, peer)
    due = [stays[0].grant.id]  # within the 72 h lead time; the others are not yet
    for lock in locks:
        assert held_grants(runtime, peer, lock) == due
    assert statuses(runtime, stays[0].grant.id) == {lock.id: "set" for lock in locks}
    assert set(statuses(runtime, stays[2].grant.id).values()) == {"waiting_for_lead_time"}


def test_the_pin_on_the_device_is_the_grant_code(runtime, peer, world):
    _, locks, stays = world
    settle(runtime, peer)
    with runtime.uow() as uow:
        grant = uow.grants.get(stays[0].grant.organisation_id, stays[0].grant.id)
        code = uow.grants.code_of(grant)
    for lock in locks:
        pins = [pin for name, pin in peer.held(runtime, lock) if name == tag_for(grant.id)]
        assert pins in ([code], [None])


def test_passes_repeated_never_put_a_code_twice(runtime, peer, world):
    _, locks, _ = world
    for _ in range(3):
        settle(runtime, peer)
    for lock in locks:
        names = Counter(name for name, _ in peer.held(runtime, lock))
        assert all(count == 1 for count in names.values()), names


def test_a_code_a_crash_left_on_the_device_is_adopted_not_set_again(runtime, peer, world):
    _, locks, stays = world
    grant = stays[0].grant
    with runtime.uow() as uow:
        code = uow.grants.code_of(uow.grants.get(grant.organisation_id, grant.id))
    window = TimeWindow(grant.starts_at, grant.ends_at)
    for lock in locks:
        peer.put_behind_our_back(runtime, lock, tag_for(grant.id), code, window)
    settle(runtime, peer)
    for lock in locks:
        assert held_grants(runtime, peer, lock) == [grant.id]
    assert event_kinds(runtime, grant.id)["LockCodeAdopted"] == len(locks)
    assert event_kinds(runtime, grant.id)["LockCodeCreated"] == 0


def test_a_cancelled_stay_leaves_every_device(runtime, peer, world):
    owner, locks, stays = world
    settle(runtime, peer)
    cancel_reservation(runtime.uow(), owner, stays[0].reservation.id, "guest cancelled")
    settle(runtime, peer)
    for lock in locks:
        assert held_grants(runtime, peer, lock) == []
    assert set(statuses(runtime, stays[0].grant.id).values()) == {"removed"}


def test_a_code_set_by_hand_is_left_alone(runtime, peer, world):
    _, locks, stays = world
    window = TimeWindow(stays[0].grant.starts_at, stays[0].grant.ends_at)
    peer.put_behind_our_back(runtime, locks[0], "Cleaner", "975319", window)
    settle(runtime, peer)
    assert held_grants(runtime, peer, locks[0]) == sorted([stays[0].grant.id, "theirs:Cleaner"])


OPERATIONS = {
    "list_devices": lambda provider: provider.list_devices(),
    "list_codes": lambda provider: provider.list_codes("dev"),
    "create_code": lambda provider: provider.create_code(
        "dev", NewCode("doorcode grt_x", "482913", WINDOW)
    ),
    "update_code": lambda provider: provider.update_code("dev", "c1", WINDOW),
    "delete_code": lambda provider: provider.delete_code("dev", "c1"),
    "health": lambda provider: provider.health("dev"),
    "access_events": lambda provider: provider.access_events("dev", None),
}
WINDOW = TimeWindow(datetime(2026, 12, 2, 15, tzinfo=UTC), datetime(2026, 12, 4, 11, tzinfo=UTC))
FAULTS = [
    pytest.param(vendor, fault, id=f"{vendor.name}: {name}")
    for vendor in VENDOR_FAULTS
    for name, fault in vendor.faults.items()
]


@pytest.mark.parametrize(("vendor", "fault"), FAULTS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_vendor_failure_leaves_as_a_provider_error_without_the_pin(vendor, fault, operation):
    """Anything but a ``ProviderError`` (or an answer read as success, such as an empty list)
    escaping an adapter would stop a whole sweep instead of one lock."""
    provider = vendor.provider(fault)
    try:
        asyncio.run(OPERATIONS[operation](provider))
    except ProviderError as err:
        message = str(err)
    else:
        message = ""
    assert "482913" not in message
