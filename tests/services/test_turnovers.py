"""Turnover codes: the cleaner's code from each check-out to the next check-in, following
the bookings as they are made, moved and cancelled."""

from datetime import UTC, date, datetime, time

import pytest

from doorcode.services.errors import InvalidRequest
from doorcode.services.grants import revoke_grant
from doorcode.services.properties import change_property
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import Grant
from tests.api.conftest import database_dump
from tests.builders import book, make_owner, make_property


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def owner(runtime):
    return make_owner(runtime, "acme")


@pytest.fixture
def flat(runtime, owner):
    prop = make_property(runtime, owner, "Flat 1", time_zone="Europe/Lisbon")
    return change_property(
        runtime.uow(), owner, prop.id, {"turnover_holder": "Cleaner", "turnover_max_hours": 24}
    )


def turnovers(runtime):
    """Live turnover codes: (the stay they follow, start, end, holder, id)."""
    with runtime.uow() as uow:
        grants = uow.session.query(Grant).filter(Grant.turnover_after.is_not(None)).all()
        live = [g for g in grants if g.revoked_at is None]
        found = [(g.turnover_after, g.starts_at, g.ends_at, g.holder, g.id) for g in live]
        return sorted(found, key=lambda turnover: turnover[1])


def test_a_turnover_runs_from_check_out_to_the_next_check_in(runtime, owner, flat):
    first = book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    book(runtime, owner, flat, "B", date(2026, 11, 26), date(2026, 11, 28))  # same-day turnover
    found = turnovers(runtime)
    assert found[0][:4] == (
        first.reservation.id,
        utc(2026, 11, 26, 11),
        utc(2026, 11, 26, 15),
        "Cleaner",
    )
    assert found[1][1:3] == (utc(2026, 11, 28, 11), utc(2026, 11, 29, 11))  # none after: the cap


def test_moving_the_next_booking_moves_the_turnover_and_keeps_its_code(runtime, owner, flat):
    book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    book(runtime, owner, flat, "B", date(2026, 11, 26), date(2026, 11, 28))
    [(_stay, _s, _e, _h, grant_id), _after_b] = turnovers(runtime)
    with runtime.uow() as uow:
        code = uow.grants.code_of(uow.session.get(Grant, grant_id))
    book(runtime, owner, flat, "B", date(2026, 11, 27), date(2026, 11, 29))  # a day later
    [(_stay, starts, ends, _h, same_id), _after] = turnovers(runtime)
    assert (same_id, starts, ends) == (grant_id, utc(2026, 11, 26, 11), utc(2026, 11, 27, 11))
    with runtime.uow() as uow:
        assert uow.grants.code_of(uow.session.get(Grant, grant_id)) == code


def test_cancelling_a_booking_removes_its_turnover_and_frees_the_one_before(runtime, owner, flat):
    first = book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    second = book(runtime, owner, flat, "B", date(2026, 11, 26), date(2026, 11, 28))
    cancel_reservation(runtime.uow(), owner, second.reservation.id, "no-show")
    assert [(stay, s, e) for stay, s, e, _h, _id in turnovers(runtime)] == [
        (first.reservation.id, utc(2026, 11, 26, 11), utc(2026, 11, 27, 11))
    ]


def test_turning_turnovers_off_revokes_them_and_a_bad_cap_changes_nothing(runtime, owner, flat):
    book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    before = database_dump(runtime)
    with pytest.raises(InvalidRequest, match="a turnover code lasts 1 to 336 hours"):
        change_property(runtime.uow(), owner, flat.id, {"turnover_max_hours": 0})
    assert database_dump(runtime) == before
    change_property(runtime.uow(), owner, flat.id, {"turnover_holder": ""})
    assert turnovers(runtime) == []


def test_a_property_without_turnovers_gets_none(runtime, owner):
    plain = make_property(runtime, owner, "Plain", time_zone="Europe/Lisbon")
    book(runtime, owner, plain, "A", date(2026, 11, 23), date(2026, 11, 26))
    assert turnovers(runtime) == []


def test_no_turnover_while_the_next_guest_is_already_in(runtime, owner, flat):
    """B checks in at 10:00 on the day A checks out at 11:00: no cleaner's code from 11:00."""
    first = book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    book(runtime, owner, flat, "B", date(2026, 11, 26), date(2026, 11, 28), check_in_at=time(10))
    assert [t for t in turnovers(runtime) if t[0] == first.reservation.id] == []


def test_a_turnover_code_an_operator_revoked_stays_revoked(runtime, owner, flat):
    book(runtime, owner, flat, "A", date(2026, 11, 23), date(2026, 11, 26))
    [(_stay, _s, _e, _h, grant_id)] = turnovers(runtime)
    revoke_grant(runtime.uow(), owner, grant_id, "the cleaner lost the code")
    book(runtime, owner, flat, "B", date(2026, 11, 28), date(2026, 11, 30))  # any later change
    assert all(t[4] != grant_id for t in turnovers(runtime))
    assert len(turnovers(runtime)) == 1  # only B's: A's stays revoked
