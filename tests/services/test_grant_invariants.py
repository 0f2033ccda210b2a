"""DESIGN.md invariants as property tests over random booking histories.

A rigged random source makes every random draw the same code, so collisions are the rule rather
than a one-in-a-million event and the clash handling runs on nearly every example.
"""

import itertools
import random
import shutil
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services.properties import link_lock
from doorcode.services.reservations import (
    Change,
    Guest,
    ReservationDetails,
    cancel_reservation,
    record_reservation,
)
from doorcode.store.models import Event, Grant, Reservation
from tests.builders import make_lock, make_owner, make_property
from tests.conftest import make_runtime

FIRST_DAY = date(2026, 12, 1)


class CollidingRandom(random.Random):
    """Every random draw yields the same code; only the fallback's uniform pick differs."""

    def choice(self, seq):
        return seq[0]


bookings = st.tuples(
    st.just("book"),
    st.integers(0, 7),  # reservation
    st.integers(0, 2),  # property
    st.integers(0, 20),  # first night
    st.integers(1, 6),  # nights
    st.sampled_from(list(ReservationStatus)),
)
cancellations = st.tuples(st.just("cancel"), st.integers(0, 7))
histories = st.lists(st.one_of(bookings, bookings, cancellations), min_size=1, max_size=25)
lock_groups = st.lists(st.sets(st.integers(0, 3), min_size=1), min_size=3, max_size=3)


def build_world(tmp_path, sqlite_template, clock, groups):
    path = tmp_path / f"world-{random.random()}.sqlite3"
    shutil.copy(sqlite_template, path)
    runtime = make_runtime(f"sqlite:///{path}", clock, tmp_path)
    runtime.rng = CollidingRandom(7)
    owner = make_owner(runtime)
    locks = [make_lock(runtime, owner, f"lock {n}") for n in range(4)]
    properties = [make_property(runtime, owner, f"P{n}", locks=[], code_length=4) for n in range(3)]
    for prop, group in zip(properties, groups, strict=True):
        for lock_number in sorted(group):
            link_lock(runtime.uow(), owner, prop.id, locks[lock_number].id)
    return runtime, owner, properties


def apply(runtime, owner, properties, step, latest):
    if step[0] == "cancel":
        details = latest.get(step[1])
        if details is not None:
            with runtime.uow() as uow:
                found = uow.reservations.by_source(
                    owner.organisation_id, "fuzz", details.external_id
                )
            cancel_reservation(runtime.uow(), owner, found.id)
            latest[step[1]] = ReservationDetails(
                details.source,
                details.external_id,
                details.property_ref,
                ReservationStatus.CANCELLED,
                details.stay,
                details.guest,
            )
        return
    _, number, prop, first, nights, status = step
    check_in = FIRST_DAY + timedelta(days=first)
    details = ReservationDetails(
        "fuzz",
        f"R{number}",
        properties[prop].id,
        status,
        Stay(check_in, check_in + timedelta(days=nights)),
        Guest(name=f"guest {number}"),
    )
    record_reservation(runtime.uow(), owner, details)
    latest[number] = details


def assert_no_shared_code_on_a_common_lock(runtime):
    with runtime.uow() as uow:
        every = uow.session.scalars(select(Grant).options(selectinload(Grant.lock_codes)))
        grants = [g for g in every if g.revoked_at is None]
        codes = {g.id: uow.grants.code_of(g) for g in grants}
        locks = {g.id: {lc.lock_id for lc in g.lock_codes} for g in grants}
    for a, b in itertools.combinations(grants, 2):
        overlapping = a.starts_at < b.ends_at and b.starts_at < a.ends_at
        if overlapping and locks[a.id] & locks[b.id]:
            assert codes[a.id] != codes[b.id]


def assert_each_confirmed_reservation_has_exactly_its_grant(runtime, properties):
    lock_sets = {p.id: {lock.id for lock in p.locks} for p in properties}
    with runtime.uow() as uow:
        for reservation in uow.session.scalars(select(Reservation)):
            grant = uow.grants.guest_grant_of(reservation.id)
            if reservation.status != "confirmed":
                assert grant is None or grant.revoked_at is not None
                continue
            assert grant.revoked_at is None
            assert (grant.starts_at, grant.ends_at) == (reservation.starts_at, reservation.ends_at)
            assert {lc.lock_id for lc in grant.lock_codes} == lock_sets[reservation.property_id]


def count(runtime, model):
    with runtime.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=lock_groups, history=histories)
def test_overlapping_grants_never_share_a_code_on_a_common_lock(
    tmp_path, sqlite_template, clock, groups, history
):
    runtime, owner, properties = build_world(tmp_path, sqlite_template, clock, groups)
    latest = {}
    for step in history:
        apply(runtime, owner, properties, step, latest)
        assert_no_shared_code_on_a_common_lock(runtime)
    with runtime.uow() as uow:
        properties = [uow.properties.get(owner.organisation_id, p.id) for p in properties]
    assert_each_confirmed_reservation_has_exactly_its_grant(runtime, properties)
    runtime.close()


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=lock_groups, history=histories)
def test_replaying_every_reservation_changes_nothing(
    tmp_path, sqlite_template, clock, groups, history
):
    runtime, owner, properties = build_world(tmp_path, sqlite_template, clock, groups)
    latest = {}
    for step in history:
        apply(runtime, owner, properties, step, latest)
    events, grants = count(runtime, Event), count(runtime, Grant)
    for details in latest.values():
        assert record_reservation(runtime.uow(), owner, details).change is Change.UNCHANGED
    assert (count(runtime, Event), count(runtime, Grant)) == (events, grants)
    runtime.close()
