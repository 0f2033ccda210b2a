"""Backup codes: provisioned in the background, released to a guest whose code fails."""

from datetime import date, timedelta

import pytest

from doorcode.services.backup_codes import release_backup_code
from doorcode.services.grants import reveal_code
from doorcode.services.properties import change_property
from doorcode.services.reservations import cancel_reservation
from doorcode.store.repositories import GrantFilter
from tests.builders import book, make_owner, make_property

IN, OUT = date(2026, 11, 23), date(2026, 11, 26)


@pytest.fixture
def owner(any_runtime):
    return make_owner(any_runtime)


@pytest.fixture
def flat(any_runtime, owner):
    prop = make_property(any_runtime, owner, "Flat")
    return change_property(any_runtime.uow(), owner, prop.id, {"backup_codes": True})


def backups(runtime, owner):
    with runtime.uow() as uow:
        return uow.grants.search(owner.organisation_id, GrantFilter(kind="backup"))


def test_a_property_that_keeps_backup_codes_has_one_standing_code_shared_with_nobody(
    any_runtime, owner, flat, clock
):
    [standing] = backups(any_runtime, owner)
    assert standing.reservation_id is None
    assert standing.starts_at == clock.now
    assert {lc.lock_id for lc in standing.lock_codes} == {lock.id for lock in flat.locks}


def test_a_property_without_backup_codes_has_none_to_release(any_runtime, owner):
    plain = make_property(any_runtime, owner, "Plain")
    outcome = book(any_runtime, owner, plain, "B-1", IN, OUT)
    assert release_backup_code(any_runtime.uow(), owner, outcome.reservation.id) is None
    assert backups(any_runtime, owner) == []


def test_releasing_gives_the_guest_the_code_until_check_out_and_rotates_it(
    any_runtime, owner, flat
):
    outcome = book(any_runtime, owner, flat, "B-1", IN, OUT)
    [standing] = backups(any_runtime, owner)
    released = release_backup_code(any_runtime.uow(), owner, outcome.reservation.id)
    assert released.id == standing.id
    assert released.reservation_id == outcome.reservation.id
    assert released.ends_at == outcome.grant.ends_at
    successor = next(g for g in backups(any_runtime, owner) if g.reservation_id is None)
    assert successor.starts_at == outcome.grant.ends_at
    old_code = reveal_code(any_runtime.uow(), owner, released.id)
    assert reveal_code(any_runtime.uow(), owner, successor.id) != old_code
    again = release_backup_code(any_runtime.uow(), owner, outcome.reservation.id)
    assert again.id == released.id
    assert len(backups(any_runtime, owner)) == 2


def test_a_code_released_days_before_check_in_opens_only_from_check_in(
    any_runtime, owner, flat, clock
):
    """Released on the 23rd for an arrival on the 26th: not a key to the flat for three days."""
    arrival = book(any_runtime, owner, flat, "B-1", IN + timedelta(days=3), OUT + timedelta(days=3))
    released = release_backup_code(any_runtime.uow(), owner, arrival.reservation.id)
    assert released.starts_at == arrival.grant.starts_at > clock.now
    assert released.ends_at == arrival.grant.ends_at
    earlier = book(any_runtime, owner, flat, "B-1", IN + timedelta(days=2), OUT + timedelta(days=3))
    moved = next(g for g in backups(any_runtime, owner) if g.id == released.id)
    assert moved.starts_at == earlier.grant.starts_at  # it follows the stay's new start


def test_a_code_released_during_the_stay_opens_at_once(any_runtime, owner, flat, clock):
    stay = book(any_runtime, owner, flat, "B-1", IN - timedelta(days=1), OUT)
    released = release_backup_code(any_runtime.uow(), owner, stay.reservation.id)
    assert released.starts_at == clock.now
    assert released.ends_at == stay.grant.ends_at


def test_a_released_code_ends_with_the_stay_and_dies_with_its_cancellation(
    any_runtime, owner, flat
):
    outcome = book(any_runtime, owner, flat, "B-1", IN, OUT)
    released = release_backup_code(any_runtime.uow(), owner, outcome.reservation.id)
    later = book(any_runtime, owner, flat, "B-1", IN, OUT + timedelta(days=2))
    moved = next(g for g in backups(any_runtime, owner) if g.id == released.id)
    assert moved.ends_at == later.grant.ends_at
    cancel_reservation(any_runtime.uow(), owner, outcome.reservation.id)
    revoked = next(g for g in backups(any_runtime, owner) if g.id == released.id)
    assert revoked.revoked_at is not None


def test_a_cancelled_stay_gets_no_backup_code(any_runtime, owner, flat):
    from doorcode.services.errors import InvalidRequest

    outcome = book(any_runtime, owner, flat, "B-1", IN, OUT)
    cancel_reservation(any_runtime.uow(), owner, outcome.reservation.id)
    with pytest.raises(InvalidRequest, match="confirmed reservation"):
        release_backup_code(any_runtime.uow(), owner, outcome.reservation.id)


def test_turning_backup_codes_off_withdraws_the_standing_code_but_not_a_released_one(
    any_runtime, owner, flat
):
    outcome = book(any_runtime, owner, flat, "B-1", IN, OUT)
    released = release_backup_code(any_runtime.uow(), owner, outcome.reservation.id)
    change_property(any_runtime.uow(), owner, flat.id, {"backup_codes": False})
    live = [g.id for g in backups(any_runtime, owner) if g.revoked_at is None]
    assert live == [released.id]
