"""Builders for the objects most tests need: an organisation's owner, properties, locks."""

from __future__ import annotations

from datetime import date, time

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller, Role
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    ReservationOutcome,
    record_reservation,
)
from doorcode.store.models import Lock, Property, Reservation


def make_owner(runtime: Runtime, slug: str = "acme") -> Caller:
    organisation = create_organisation(runtime.uow(), slug, slug.title())
    return Caller(organisation.id, f"test:{slug}", Role.OWNER)


def make_lock(
    runtime: Runtime, caller: Caller, name: str, capabilities: LockCapabilities | None = None
) -> Lock:
    details = LockDetails(name=name, capabilities=capabilities or LockCapabilities())
    return add_lock(runtime.uow(), caller, details)


def make_property(
    runtime: Runtime,
    caller: Caller,
    name: str,
    *,
    locks: list[Lock] | None = None,
    time_zone: str = "Europe/London",
    code_length: int = 6,
    external_id: str | None = None,
) -> Property:
    details = PropertyDetails(
        name=name, time_zone=time_zone, code_length=code_length, external_id=external_id
    )
    prop = add_property(runtime.uow(), caller, details)
    for lock in locks if locks is not None else [make_lock(runtime, caller, f"{name} door")]:
        prop = link_lock(runtime.uow(), caller, prop.id, lock.id)
    return prop


def book(
    runtime: Runtime,
    caller: Caller,
    prop: Property,
    external_id: str,
    check_in: date,
    check_out: date,
    *,
    status: ReservationStatus = ReservationStatus.CONFIRMED,
    guest: str = "Ada Lovelace",
    check_in_at: time | None = None,
    source: str = "test",
) -> ReservationOutcome:
    details = ReservationDetails(
        source=source,
        external_id=external_id,
        property_ref=prop.id,
        status=status,
        stay=Stay(check_in, check_out, check_in_at),
        guest=Guest(name=guest, email="ada@example.org"),
    )
    return record_reservation(runtime.uow(), caller, details)


def guide_token_of(runtime: Runtime, reservation: Reservation) -> str:
    """The token of the reservation's guidebook link (the database holds it only encrypted)."""
    with runtime.uow() as uow:
        return uow.reservations.guide_token_of(reservation)


PASSWORD = "correct horse battery staple"


def make_user(runtime: Runtime, caller: Caller, username: str, role: Role = Role.OWNER) -> str:
    """A dashboard user with the shared test password; returns the username."""
    from doorcode.services.users import create_user

    return create_user(runtime.uow(), caller, username, PASSWORD, role).username
