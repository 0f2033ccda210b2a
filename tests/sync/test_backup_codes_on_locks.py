"""A standing backup code sits on the locks only in room nobody else needs, and alerts nobody."""

from datetime import date, timedelta

from sqlalchemy import select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.locks.tags import tag_for
from doorcode.services.backup_codes import release_backup_code
from doorcode.services.properties import change_property
from doorcode.store.models import Alert
from doorcode.store.repositories import GrantFilter
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, reconcile, statuses

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day


def test_on_a_full_lock_the_guest_gets_the_slot_and_the_backup_waits_silently(runtime, clock):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Tiny keypad", LockCapabilities(max_codes=1))
    flat = make_property(runtime, owner, "Flat", locks=[door], time_zone="UTC")
    change_property(runtime.uow(), owner, flat.id, {"backup_codes": True})
    reconcile(runtime)
    with runtime.uow() as uow:
        [backup] = uow.grants.search(owner.organisation_id, GrantFilter(kind="backup"))
    assert [code.name for code in cloud_of(runtime).codes_on(door.external_id)] == [
        tag_for(backup.id)
    ]
    guest = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    clock.advance(hours=5)
    reconcile(runtime)
    assert [code.name for code in cloud_of(runtime).codes_on(door.external_id)] == [
        tag_for(guest.id)
    ]
    assert statuses(runtime, backup.id)[door.id] == "waiting_for_space"
    with runtime.uow() as uow:
        assert uow.session.scalars(select(Alert)).all() == []


def test_a_released_backup_code_is_on_the_locks_beside_the_guest_code(runtime, clock):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Keypad")
    flat = make_property(runtime, owner, "Flat", locks=[door], time_zone="UTC")
    change_property(runtime.uow(), owner, flat.id, {"backup_codes": True})
    outcome = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    clock.advance(hours=5)
    reconcile(runtime)
    released = release_backup_code(runtime.uow(), owner, outcome.reservation.id)
    reconcile(runtime)
    names = {code.name for code in cloud_of(runtime).codes_on(door.external_id)}
    assert {tag_for(outcome.grant.id), tag_for(released.id)} <= names
    assert statuses(runtime, released.id)[door.id] == "set"
