"""Bookings and codes made at the same moment by several threads, on SQLite and PostgreSQL.

Two deliveries of one booking race to create it; two bookings on one lock race to pick a
code; two offline codes for one window race for the one code that window encodes. The loser
of each race must see the winner's work: one reservation, distinct codes.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from random import Random
from threading import Barrier

import pytest
from sqlalchemy import func, select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow
from doorcode.services import offline_codes
from doorcode.services.backup_codes import release_backup_code
from doorcode.services.grants import reveal_code
from doorcode.services.properties import change_property
from doorcode.services.reservations import (
    Change,
    Guest,
    ReservationDetails,
    ReservationOutcome,
    record_reservation,
)
from doorcode.store.models import Grant, Reservation
from doorcode.store.repositories import GrantFilter
from doorcode.store.unit_of_work import UnitOfWork
from tests.builders import make_lock, make_owner, make_property

THREADS = 6
IN, OUT = date(2026, 12, 4), date(2026, 12, 7)


@pytest.fixture
def owner(any_runtime):
    return make_owner(any_runtime)


def same_draws_uow(runtime) -> UnitOfWork:
    """A unit of work whose randomness repeats: every racer draws the same codes first."""
    return UnitOfWork(
        runtime.session_factory, runtime.cipher, runtime.clock, Random(7), runtime.commit_hooks
    )


def race(record, count: int) -> list[ReservationOutcome]:
    start = Barrier(count)

    def one(n: int) -> ReservationOutcome:
        start.wait()
        return record(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def details(prop, external_id: str) -> ReservationDetails:
    return ReservationDetails(
        "api", external_id, prop.id, ReservationStatus.CONFIRMED, Stay(IN, OUT), Guest("Ada")
    )


def test_one_booking_delivered_at_once_by_many_becomes_one_reservation(any_runtime, owner):
    flat = make_property(any_runtime, owner, "Flat")
    outcomes = race(
        lambda _: record_reservation(any_runtime.uow(), owner, details(flat, "B-1")), THREADS
    )
    assert sorted(outcome.change for outcome in outcomes) == sorted(
        [Change.CREATED] + [Change.UNCHANGED] * (THREADS - 1)
    )
    assert len({outcome.reservation.id for outcome in outcomes}) == 1
    with any_runtime.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Reservation)) == 1
        assert connection.scalar(select(func.count()).select_from(Grant)) == 1


def test_bookings_racing_for_codes_on_one_lock_never_share_a_code(any_runtime, owner):
    flat = make_property(any_runtime, owner, "Flat", code_length=4)
    outcomes = race(
        lambda n: record_reservation(same_draws_uow(any_runtime), owner, details(flat, f"B-{n}")),
        THREADS,
    )
    codes = [reveal_code(any_runtime.uow(), owner, outcome.grant.id) for outcome in outcomes]
    assert len(set(codes)) == THREADS


def test_offline_codes_issued_at_once_for_one_window_differ(any_runtime, owner, clock):
    offline = LockCapabilities(online=False, offline_codes=True, native_scheduling=False)
    keypad = make_lock(any_runtime, owner, "cabin keypad", offline)
    make_property(any_runtime, owner, "Cabin", locks=[keypad])
    offline_codes.create_key_group(any_runtime.uow(), owner, "cabin", (keypad.id,))
    start = clock.now + timedelta(days=2)
    window = TimeWindow(start, start + timedelta(days=3))
    issued = race(
        lambda n: offline_codes.issue_offline_grant(
            any_runtime.uow(), owner, "cabin", window, f"Guest {n}"
        ),
        THREADS,
    )
    assert len({grant.code for grant in issued}) == THREADS


def test_a_guest_and_their_host_asking_for_the_backup_code_at_once_release_it_once(
    any_runtime, owner
):
    flat = make_property(any_runtime, owner, "Flat")
    change_property(any_runtime.uow(), owner, flat.id, {"backup_codes": True})
    stay = record_reservation(any_runtime.uow(), owner, details(flat, "B-1"))
    released = race(
        lambda _: release_backup_code(any_runtime.uow(), owner, stay.reservation.id), THREADS
    )
    assert len({grant.id for grant in released}) == 1
    with any_runtime.uow() as uow:
        backups = uow.grants.search(owner.organisation_id, GrantFilter(kind="backup"))
    assert sorted(grant.reservation_id or "standing" for grant in backups) == sorted(
        [stay.reservation.id, "standing"]
    )
