"""A stay on a virtual lock whose code is on the device: the world access-event tests share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from doorcode.services.grants import reveal_code
from doorcode.services.host_contact import HostContact, set_host_contact
from doorcode.store.models import Lock, Property, Reservation
from doorcode.sync.access_poller import poll_access
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, reconcile


@dataclass
class Stay:
    runtime: object
    owner: object
    prop: Property
    door: Lock
    street: Lock
    reservation: Reservation
    grant_id: str
    code: str

    @property
    def cloud(self):
        return cloud_of(self.runtime)

    def poll(self):
        return asyncio.run(asyncio.wait_for(poll_access(self.runtime), 20))


def build_stay(runtime, clock, *, guest="Ada Lovelace") -> Stay:
    owner = make_owner(runtime)
    set_host_contact(runtime.uow(), owner, HostContact("Hugo Host", "hugo@example.org", None))
    door = make_lock(runtime, owner, "Flat 1A door")
    street = make_lock(runtime, owner, "Street door")
    prop = make_property(runtime, owner, "Flat 1A", locks=[door, street], time_zone="Europe/Lisbon")
    today = clock().date()
    outcome = book(runtime, owner, prop, "B-1", today, today + timedelta(days=2), guest=guest)
    reservation = outcome.reservation
    with runtime.uow() as uow:
        grant = uow.grants.guest_grant_of(reservation.id)
        grant_id = grant.id
    code = reveal_code(runtime.uow(), owner, grant_id)
    reconcile(runtime)
    return Stay(runtime, owner, prop, door, street, reservation, grant_id, code)


@pytest.fixture
def stay(runtime, clock) -> Stay:
    runtime.settings.console_messages = True
    return build_stay(runtime, clock)


def at_local(day: date, hour: int, minute: int = 0):
    """An instant on a Lisbon day in November (Lisbon is on UTC then)."""
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
