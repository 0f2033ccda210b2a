"""Per-property lead times, and code allocation that keeps back-to-back stays apart."""

import random
from datetime import date, timedelta

import pytest

from doorcode.domain.errors import InvalidLeadTime
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.services.grants import reveal_code
from doorcode.services.properties import PropertyDetails, add_property, change_property
from doorcode.store.models import Lock
from tests.builders import book, make_lock, make_owner, make_property

IN = date(2026, 12, 4)


class SameFirstDraws(random.Random):
    """Every random draw yields the first symbol: the first candidate is always 0000."""

    def choice(self, seq):
        return seq[0]


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


def test_a_property_keeps_its_lead_times(runtime, owner):
    details = PropertyDetails(
        "Flat", "UTC", native_lead_minutes=24 * 60, unscheduled_lead_minutes=15
    )
    prop = add_property(runtime.uow(), owner, details)
    assert (prop.native_lead_minutes, prop.unscheduled_lead_minutes) == (1440, 15)


@pytest.mark.parametrize("minutes", [-1, 30 * 24 * 60 + 1])
def test_lead_times_outside_zero_to_thirty_days_are_refused(runtime, owner, minutes):
    with pytest.raises(InvalidLeadTime):
        add_property(
            runtime.uow(), owner, PropertyDetails("Flat", "UTC", native_lead_minutes=minutes)
        )


def test_new_lead_times_send_the_reconciler_to_the_locks(runtime, owner):
    flat = make_property(runtime, owner, "Flat")
    with runtime.uow() as uow:
        before = uow.session.get(Lock, flat.locks[0].id).sync_requests
    change_property(runtime.uow(), owner, flat.id, {"native_lead_minutes": 600})
    with runtime.uow() as uow:
        assert uow.session.get(Lock, flat.locks[0].id).sync_requests == before + 1


def test_back_to_back_stays_get_different_codes_when_the_space_allows(runtime, owner):
    runtime.rng = SameFirstDraws(1)
    flat = make_property(runtime, owner, "Flat", time_zone="UTC", code_length=4)
    first = book(runtime, owner, flat, "B1", IN, IN + timedelta(days=2)).grant
    second = book(runtime, owner, flat, "B2", IN + timedelta(days=2), IN + timedelta(days=4)).grant
    third = book(runtime, owner, flat, "B3", IN + timedelta(days=9), IN + timedelta(days=10)).grant
    codes = [reveal_code(runtime.uow(), owner, g.id) for g in (first, second, third)]
    assert codes[0] != codes[1]  # the second's code sits on the lock 72 h before it starts
    assert codes[2] == codes[0]  # a week apart: sharing is harmless


def test_a_lock_without_scheduling_only_keeps_codes_an_hour_apart(runtime, owner):
    runtime.rng = SameFirstDraws(1)
    door = make_lock(runtime, owner, "Door", LockCapabilities(native_scheduling=False))
    flat = make_property(runtime, owner, "Flat", locks=[door], time_zone="UTC", code_length=4)
    first = book(runtime, owner, flat, "B1", IN, IN + timedelta(days=2)).grant
    second = book(runtime, owner, flat, "B2", IN + timedelta(days=2), IN + timedelta(days=4)).grant
    # the first leaves at 11:00, the second's code goes on at 14:00: no overlap on the lock
    assert reveal_code(runtime.uow(), owner, first.id) == reveal_code(
        runtime.uow(), owner, second.id
    )
