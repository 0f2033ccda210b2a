"""Backup codes: a second code already on the locks, released to a guest whose first one fails.

Seed 004's practice: backup codes are provisioned in the background and shared with no one,
until a guest cannot get in (a code wiped by hand, a lock that missed an update). A property
that keeps backup codes (``Property.backup_codes``, off unless the host turns it on) has one
**standing** backup grant on all its locks for a year at a time. Because it is already on the
locks, releasing it needs no network at the moment of need. It is a spare code for the
planner: it only fills room on a lock that no guest, staff or master code needs.

Releasing it to a reservation ties the grant to that reservation and narrows it to the stay:
from check-in (or now, once the stay has begun) to check-out. A new standing grant with a
fresh code starts at check-out, so the released code rotates at the end of the stay.
Allocation avoids codes within the locks' lead time, so the successor never reuses it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from doorcode.domain.grants import GrantKind
from doorcode.domain.reservations import ReservationStatus
from doorcode.domain.windows import TimeWindow
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.grants import GrantTarget, move_grant, open_grant, revoke
from doorcode.services.messages import announce_backup_code
from doorcode.store.models import Grant, Property, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "BACKUP_HOLDER",
    "ensure_backup_grant",
    "follow_reservation",
    "release_backup_code",
    "released_backup_of",
    "settle_backup_codes",
]

BACKUP_HOLDER = "backup (not shared)"
STANDING_FOR = timedelta(days=365)
RENEW_WITHIN = timedelta(days=30)


def ensure_backup_grant(uow: UnitOfWork, caller: Caller, prop: Property) -> Grant | None:
    """The property's current standing backup grant, created or renewed when needed.

    Part of the caller's transaction. A successor is opened when the last standing grant has
    less than a month to run; a property without locks needs none (None).
    """
    if not prop.locks:
        return None
    standing = uow.grants.standing_backups(prop.id, uow.now)
    if not standing:
        return _open_standing(uow, caller, prop, uow.now)
    if standing[-1].ends_at - uow.now <= RENEW_WITHIN:
        _open_standing(uow, caller, prop, standing[-1].ends_at)
    return standing[0]


def settle_backup_codes(uow: UnitOfWork, caller: Caller, prop: Property) -> None:
    """Provision or withdraw the property's standing backup codes after a settings change.

    Part of the caller's transaction. Codes already released to guests stay theirs.
    """
    if prop.backup_codes:
        ensure_backup_grant(uow, caller, prop)
        return
    for standing in uow.grants.standing_backups(prop.id, uow.now):
        revoke(uow, caller, standing, "the property no longer keeps backup codes")


def release_backup_code(uow: UnitOfWork, caller: Caller, reservation_id: str) -> Grant | None:
    """Give a guest the property's backup code until their check-out; None if there is none.

    Releasing twice returns the grant released the first time. The guest is told through
    the message channels once the code is on every lock (it usually already is).
    """
    caller.require_writer()
    with uow:
        reservation = uow.reservations.get(caller.organisation_id, reservation_id)
        if reservation is None:
            raise NotFound("reservation", reservation_id)
        # Two stays at one property would otherwise both take the one standing code.
        uow.properties.hold(reservation.property_id)
        released = released_backup_of(uow, reservation)
        if released is None:
            released = _release(uow, caller, reservation)
            uow.commit()
    if released is not None:
        announce_backup_code(uow, caller, released.id)
    return released


def released_backup_of(uow: UnitOfWork, reservation: Reservation) -> Grant | None:
    """The backup grant released to this reservation, if any (revoked ones do not count)."""
    for grant in uow.grants.tied_to(reservation.id, GrantKind.BACKUP):
        if grant.revoked_at is None:
            return grant
    return None


def follow_reservation(uow: UnitOfWork, caller: Caller, reservation: Reservation) -> None:
    """Keep a released backup code in step with its reservation: end with it, go with it.

    Part of the caller's transaction, called whenever the reservation's guest grant follows.
    """
    released = released_backup_of(uow, reservation)
    if released is None:
        return
    if reservation.status != ReservationStatus.CONFIRMED:
        revoke(uow, caller, released, f"the reservation is {reservation.status}")
        return
    starts = released.starts_at
    if starts > uow.now:  # not yet open: it still opens with the stay
        starts = max(reservation.starts_at, uow.now)
    if (starts, reservation.ends_at) != (released.starts_at, released.ends_at) and (
        reservation.ends_at > starts
    ):
        window = TimeWindow(starts, reservation.ends_at)
        move_grant(uow, caller, released, window, _target(uow, caller, released))


def _release(uow: UnitOfWork, caller: Caller, reservation: Reservation) -> Grant | None:
    guest = uow.grants.guest_grant_of(reservation.id)
    if reservation.status != ReservationStatus.CONFIRMED or guest is None:
        raise InvalidRequest("only a confirmed reservation can get a backup code")
    if guest.revoked_at is not None or guest.ends_at <= uow.now:
        raise InvalidRequest("this stay is over")
    prop = reservation.property
    standing = ensure_backup_grant(uow, caller, prop) if prop.backup_codes else None
    if standing is None:
        return None
    target = GrantTarget.of_property(prop)
    standing.reservation_id = reservation.id
    standing.holder = reservation.guest_name or "guest"
    # Valid for the stay, not from the moment it was released: released days ahead, it
    # must not open the door before check-in. Already begun, it opens now.
    starts = max(guest.starts_at, uow.now)
    ends = max(guest.ends_at, uow.now + timedelta(minutes=1))
    move_grant(uow, caller, standing, TimeWindow(starts, ends), target)
    _open_standing(uow, caller, prop, ends)
    record_event(
        uow,
        caller,
        ("grant", standing.id),
        "BackupCodeReleased",
        f"released to reservation {reservation.id}",
        after={"reservation_id": reservation.id, "ends_at": ends.isoformat()},
    )
    return standing


def _open_standing(uow: UnitOfWork, caller: Caller, prop: Property, starts: datetime) -> Grant:
    return open_grant(
        uow,
        caller,
        kind=GrantKind.BACKUP,
        holder=BACKUP_HOLDER,
        window=TimeWindow(starts, starts + STANDING_FOR),
        target=GrantTarget.of_property(prop),
    )


def _target(uow: UnitOfWork, caller: Caller, grant: Grant) -> GrantTarget:
    prop = uow.properties.get(caller.organisation_id, grant.property_id or "")
    if prop is None:
        raise NotFound("property", grant.property_id or "")
    return GrantTarget.of_property(prop)
