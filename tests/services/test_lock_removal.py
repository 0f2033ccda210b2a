"""Removing a lock: its codes leave the device, grants keep their other locks, then it goes."""

import asyncio
from datetime import timedelta

import pytest

from doorcode.services.errors import NotFound
from doorcode.services.events import list_events
from doorcode.services.grants import get_grant
from doorcode.services.lock_removal import LockUnreachable, remove_lock
from doorcode.services.locks import list_locks
from doorcode.services.reservations import cancel_reservation
from doorcode.store.repositories import EventFilter
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_lock, make_owner, make_property


@pytest.fixture
def flat(runtime, clock):
    owner = make_owner(runtime)
    street, door = make_lock(runtime, owner, "street door"), make_lock(runtime, owner, "flat door")
    prop = make_property(runtime, owner, "Flat", locks=[street, door])
    today = clock.now.date()
    outcome = book(runtime, owner, prop, "R1", today - timedelta(days=1), today + timedelta(days=2))
    install_virtual_locks(runtime)
    asyncio.run(Reconciler.from_runtime(runtime).reconcile([street.id, door.id], force=True))
    cloud = runtime.providers.virtual_cloud
    assert len(cloud.codes_on(door.external_id)) == 1
    return owner, street, door, outcome.grant


def test_a_removed_locks_codes_leave_the_device_and_the_grant_keeps_its_other_locks(runtime, flat):
    owner, street, door, grant = flat
    removal = remove_lock(runtime, owner, "flat door")
    assert removal.codes_deleted == 1
    assert removal.grants_changed == (grant.id,)  # the guest grant follows the property
    assert runtime.providers.virtual_cloud.codes_on(door.external_id) == []
    kept = get_grant(runtime.uow(), owner, grant.id)
    assert [code.lock_id for code in kept.lock_codes] == [street.id]
    assert [lock.name for lock in list_locks(runtime.uow(), owner)] == ["street door"]
    kinds = [e.kind for e in list_events(runtime.uow(), owner, EventFilter(subject_id=door.id))]
    assert {"LockDetached", "LockRemoved"} <= set(kinds)
    with pytest.raises(NotFound):
        remove_lock(runtime, owner, "flat door")


def test_the_grants_named_are_those_still_in_force_not_the_locks_history(runtime, flat, clock):
    owner, _, _, grant = flat
    with runtime.uow() as uow:
        prop = uow.properties.find(owner.organisation_id, "Flat")
    today = clock.now.date()
    book(runtime, owner, prop, "R0", today - timedelta(days=20), today - timedelta(days=15))
    later = book(runtime, owner, prop, "R2", today + timedelta(days=5), today + timedelta(days=7))
    cancel_reservation(runtime.uow(), owner, later.reservation.id)
    removal = remove_lock(runtime, owner, "flat door")
    assert removal.grants_changed == (grant.id,)


def test_an_unreachable_lock_is_kept_out_of_every_grant_until_its_codes_are_gone(
    runtime, flat, clock
):
    owner, street, door, grant = flat
    runtime.providers.virtual_cloud.go_offline(door.external_id, clock.now + timedelta(hours=1))
    with pytest.raises(LockUnreachable, match="could not be removed from the device"):
        remove_lock(runtime, owner, "flat door")
    locks = {lock.name: lock for lock in list_locks(runtime.uow(), owner)}
    assert locks["flat door"].properties == []
    kept = get_grant(runtime.uow(), owner, grant.id)
    assert [code.lock_id for code in kept.lock_codes] == [street.id]
    clock.advance(hours=2)
    removal = remove_lock(runtime, owner, "flat door")
    assert removal.codes_deleted == 1
    assert runtime.providers.virtual_cloud.codes_on(door.external_id) == []


def test_forgetting_an_unreachable_lock_is_possible_when_asked(runtime, flat, clock):
    owner, _, door, _ = flat
    runtime.providers.virtual_cloud.go_offline(door.external_id, clock.now + timedelta(hours=1))
    removal = remove_lock(runtime, owner, "flat door", forget_anyway=True)
    assert removal.forgotten_unreachable
    assert [lock.name for lock in list_locks(runtime.uow(), owner)] == ["street door"]
