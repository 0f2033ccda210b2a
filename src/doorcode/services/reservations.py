"""The reservation lifecycle: a confirmed reservation has exactly one guest grant, kept in step.

``record_reservation`` is the one entry for every source (CLI, API, webhooks, iCal feeds): it
creates or updates by (source, external id), does nothing at all when the content is the same
as last time (replays and duplicate webhooks are free), and then makes the guest grant follow:

* confirmed, no grant yet → a grant from check-in to check-out on every lock of the property;
* dates or property changed → the grant moves, keeping its code unless it would now clash;
* pending or cancelled → the grant is revoked and its codes leave the locks;
* confirmed again after a cancellation → the same grant comes back.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from doorcode.domain.grants import GrantKind
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow, zone_named
from doorcode.services.audit import record_event
from doorcode.services.backup_codes import ensure_backup_grant, settle_backup_codes
from doorcode.services.backup_codes import follow_reservation as follow_backup_code
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.services.grants import (
    GrantTarget,
    move_grant,
    open_grant,
    property_target_of,
    reinstate,
    revoke,
)
from doorcode.services.overlapping_stays import review_overlaps
from doorcode.services.turnovers import follow_turnovers
from doorcode.store.ids import new_id
from doorcode.store.models import Grant, Property, Reservation
from doorcode.store.repositories import ReservationFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "OPERATOR_SOURCE",
    "BookingSeen",
    "Change",
    "Duplicate",
    "Guest",
    "ReservationDetails",
    "ReservationEdit",
    "ReservationOutcome",
    "ReservationView",
    "StaleUpdate",
    "apply_cancellation",
    "apply_reservation",
    "cancel_reservation",
    "change_reservation",
    "create_reservation",
    "find_duplicate",
    "follow_property",
    "get_reservation",
    "list_reservations",
    "record_reservation",
    "source_for",
    "stay_of",
]

SUBJECT = "reservation"
# Bookings an operator types in (the dashboard) rather than a channel, a PMS or a feed sends.
OPERATOR_SOURCE = "dashboard"


@dataclass(frozen=True, slots=True)
class Guest:
    """Who is staying, and how to reach them."""

    name: str = ""
    email: str | None = None
    phone: str | None = None
    locale: str | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class ReservationDetails:
    """A reservation as a source describes it."""

    source: str
    external_id: str
    property_ref: str
    status: ReservationStatus
    stay: Stay
    guest: Guest = field(default_factory=Guest)
    booking_reference: str | None = None
    """The channel's or PMS's own number for the booking (Airbnb's HM… code), if it said."""


@dataclass(frozen=True, slots=True)
class ReservationEdit:
    """What an operator may change on a booking: its status, its stay and its guest."""

    status: ReservationStatus
    stay: Stay
    guest: Guest


class StaleUpdate(Exception):
    """The source already applied a newer update of this booking: this one changes nothing."""


@dataclass(frozen=True, slots=True)
class BookingSeen:
    """What ``find_duplicate`` read of a booking: its property then (None: not recorded yet)."""

    property_id: str | None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A delivery that would leave its booking exactly as it is: nothing is written for it."""

    reservation_id: str
    grant_id: str | None


class ReservationView(NamedTuple):
    """A reservation and its guest grant, as listings show them."""

    reservation: Reservation
    grant: Grant | None


class Change(enum.StrEnum):
    """What recording a reservation did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ReservationOutcome:
    """The reservation after recording, what happened, and its guest grant if it has one."""

    reservation: Reservation
    change: Change
    grant: Grant | None


def record_reservation(
    uow: UnitOfWork, caller: Caller, details: ReservationDetails
) -> ReservationOutcome:
    """Create or update a reservation from a source, and make its guest grant follow."""
    caller.require_writer()
    with uow:
        outcome = apply_reservation(uow, caller, details)
        if outcome.change is not Change.UNCHANGED:
            uow.commit()
        return outcome


API_SOURCE = "api"
"""The source of reservations recorded through the API without naming one."""


def source_for(uow: UnitOfWork, caller: Caller, external_id: str, default: str = API_SOURCE) -> str:
    """The source a request that names none means: the one that already knows this booking.

    A re-sent booking without ``source`` updates the reservation known by its external id,
    rather than splitting one booking into two; a new one is ``default``'s. When several
    sources know the id, the caller must say which.
    """
    with uow:
        known = uow.reservations.by_external_id(caller.organisation_id, external_id)
    sources = sorted({reservation.source for reservation in known})
    if len(sources) > 1:
        raise InvalidRequest(
            f"reservations from several sources ({', '.join(sources)}) are known as "
            f"{external_id!r}: name the source"
        )
    return sources[0] if sources else default


def apply_reservation(
    uow: UnitOfWork,
    caller: Caller,
    details: ReservationDetails,
    *,
    keep_omitted_contact: bool = True,
    version: int | None = None,
    seen: BookingSeen | None = None,
) -> ReservationOutcome:
    """``record_reservation`` inside the caller's open transaction, which it does not commit.

    For sources that must write their own bookkeeping (a delivery record, a source version)
    in the same transaction as the reservation, so neither can exist without the other.
    ``version`` is the source's ordering of its updates: one older than the version stored
    on the reservation raises ``StaleUpdate`` before anything changes; otherwise it is kept.
    ``seen`` is what ``find_duplicate`` read of the booking in this transaction, so its
    property need not be read again before the properties are held.
    """
    caller.require_writer()
    prop = uow.properties.find(caller.organisation_id, details.property_ref)
    if prop is None:
        raise NotFound("property", details.property_ref)
    org = caller.organisation_id
    reservation = _hold_and_read(uow, org, details, prop.id, seen)
    if reservation is not None and _is_older(version, reservation.source_version):
        raise StaleUpdate  # before any check of its content: an old update changes nothing
    if details.status is not ReservationStatus.CANCELLED:  # a cancellation always goes through
        details.stay.check_length(uow.max_stay_nights)
    window = _window(prop, details.stay)
    if keep_omitted_contact and reservation is not None:
        details = replace(details, guest=_kept_contact(details.guest, _guest_of(reservation)))
    if reservation is not None and not details.booking_reference:
        # A source that does not know the channel's reference never erases it.
        details = replace(details, booking_reference=reservation.booking_reference)
    fingerprint = _fingerprint(
        prop.id, details.status, details.stay, details.guest, details.booking_reference
    )
    if reservation is not None and reservation.fingerprint == fingerprint:
        if version is not None:
            reservation.source_version = version
        grant = uow.grants.guest_grant_of(reservation.id)
        return ReservationOutcome(reservation, Change.UNCHANGED, grant)
    change = Change.CREATED if reservation is None else Change.UPDATED
    before = _snapshot(reservation) if reservation is not None else None
    reservation = reservation or _new_reservation(uow, caller, details)
    _apply(reservation, prop, details, window, fingerprint, uow)
    if version is not None:
        reservation.source_version = version
    kind = "ReservationRecorded" if before is None else "ReservationChanged"
    record_event(
        uow,
        caller,
        (SUBJECT, reservation.id),
        kind,
        before=before,
        after=_snapshot(reservation),
    )
    grant = _follow(uow, caller, reservation, prop, window, new=change is Change.CREATED)
    review_overlaps(uow, reservation, before)
    follow_turnovers(uow, caller, prop)
    if before is not None and before["property_id"] != prop.id:
        moved_from = uow.properties.get(org, before["property_id"])
        if moved_from is not None:
            follow_turnovers(uow, caller, moved_from)
    return ReservationOutcome(reservation, change, grant)


def _hold_and_read(
    uow: UnitOfWork,
    org: str,
    details: ReservationDetails,
    property_id: str,
    seen: BookingSeen | None,
) -> Reservation | None:
    """Hold the booking's property and, when it moves, the one it leaves, in id order; then
    read the reservation as it is now.

    Both properties' turnovers are recomputed, so another delivery at either must wait.
    Should the booking have moved again while this waited, its newest property is held too
    and the reservation read once more.
    """
    if seen is not None:
        current = seen.property_id
    else:
        current = uow.reservations.property_of(org, details.source, details.external_id)
    wanted = {property_id} if current is None else {property_id, current}
    held: set[str] = set()
    while True:
        uow.properties.hold_each(wanted - held)
        held |= wanted
        reservation = uow.reservations.by_source(
            org, details.source, details.external_id, fresh=True
        )
        if reservation is None or reservation.property_id in held:
            return reservation
        wanted = held | {reservation.property_id}


def find_duplicate(
    uow: UnitOfWork, caller: Caller, details: ReservationDetails, version: int | None = None
) -> Duplicate | BookingSeen:
    """Tell a replayed booking from a change with one read, before anything is loaded or held.

    A duplicate is a booking already recorded with this very content (the same digest, at the
    property the reference names, under the same source version): ``apply_reservation`` would
    change nothing, so the caller need not run it. Anything else (a new booking, a change, an
    older or newer version, a property named only by its name) says what was seen, for
    ``apply_reservation(seen=...)`` to decide with the usual holds. Must run inside the
    caller's transaction, after it queued behind the booking's other deliveries.
    """
    caller.require_writer()
    stored = uow.reservations.stored_booking(
        caller.organisation_id, details.source, details.external_id, details.property_ref
    )
    if stored is None:
        return BookingSeen(None)
    if not stored.names_property or (version is not None and version != stored.source_version):
        return BookingSeen(stored.property_id)
    if details.status is not ReservationStatus.CANCELLED:
        details.stay.check_length(uow.max_stay_nights)  # as the full path would refuse it
    kept = Guest(
        stored.guest_name,
        stored.guest_email,
        stored.guest_phone,
        stored.guest_locale,
        stored.guest_count,
    )
    reference = details.booking_reference or stored.booking_reference
    fingerprint = _fingerprint(
        stored.property_id,
        details.status,
        details.stay,
        _kept_contact(details.guest, kept),
        reference,
    )
    if fingerprint != stored.fingerprint:
        return BookingSeen(stored.property_id)
    return Duplicate(stored.reservation_id, stored.guest_grant_id)


def _is_older(version: int | None, applied: int | None) -> bool:
    return version is not None and applied is not None and version < applied


def _kept_contact(incoming: Guest, stored: Guest) -> Guest:
    """What a source sends replaces what is stored; what it leaves out is kept.

    An update that names no guest (new dates from a script, an iCal event, which never has
    contact details) must not leave the guest unreachable. A changed e-mail or phone number
    replaces the old one.
    """
    return Guest(
        name=incoming.name or stored.name,
        email=incoming.email or stored.email,
        phone=incoming.phone or stored.phone,
        locale=incoming.locale or stored.locale,
        count=incoming.count if incoming.count is not None else stored.count,
    )


def _guest_of(reservation: Reservation) -> Guest:
    return Guest(
        reservation.guest_name,
        reservation.guest_email,
        reservation.guest_phone,
        reservation.guest_locale,
        reservation.guest_count,
    )


def create_reservation(
    uow: UnitOfWork, caller: Caller, details: ReservationDetails
) -> ReservationOutcome:
    """Record a new booking an operator typed in; a reference already used is refused.

    Unlike ``record_reservation`` (a source's upsert), typing an existing reference must not
    quietly overwrite that booking. An empty reference gets a fresh one.
    """
    caller.require_writer()
    if not details.external_id:
        details = replace(details, external_id=new_id("bk"))
    with uow:
        org = caller.organisation_id
        if uow.reservations.by_source(org, details.source, details.external_id) is not None:
            raise AlreadyExists(f"a booking with the reference {details.external_id!r} exists")
        outcome = apply_reservation(uow, caller, details)
        uow.commit()
        return outcome


def change_reservation(
    uow: UnitOfWork, caller: Caller, reservation_id: str, edit: ReservationEdit
) -> ReservationOutcome:
    """Change a booking's status, dates, times or guest, whatever source it came from.

    The guest grant follows as it does for a source's update. A booking from a feed or a PMS
    takes the source's next change over this one; contact details added to a feed's booking
    stay (the feed never has any).
    """
    caller.require_writer()
    with uow:
        reservation = _get(uow, caller, reservation_id)
        details = ReservationDetails(
            source=reservation.source,
            external_id=reservation.external_id,
            property_ref=reservation.property_id,
            status=edit.status,
            stay=edit.stay,
            guest=edit.guest,
        )
        # The operator edits the whole contact: a field emptied on the form is cleared.
        outcome = apply_reservation(uow, caller, details, keep_omitted_contact=False)
        if outcome.change is not Change.UNCHANGED:
            uow.commit()
        return outcome


def cancel_reservation(
    uow: UnitOfWork, caller: Caller, reservation_id: str, reason: str = ""
) -> Reservation:
    """Cancel a reservation; its guest grant is revoked and its codes leave every lock."""
    caller.require_writer()
    with uow:
        reservation = _get(uow, caller, reservation_id)
        if apply_cancellation(uow, caller, reservation, reason):
            uow.commit()
        return reservation


def apply_cancellation(
    uow: UnitOfWork, caller: Caller, reservation: Reservation, reason: str
) -> bool:
    """``cancel_reservation`` inside the caller's open transaction; False if it already was."""
    caller.require_writer()
    if reservation.status == ReservationStatus.CANCELLED:
        return False
    before = _snapshot(reservation)
    reservation.status = ReservationStatus.CANCELLED.value
    reservation.fingerprint = _fingerprint_of_row(reservation)
    reservation.updated_at = uow.now
    record_event(
        uow,
        caller,
        (SUBJECT, reservation.id),
        "ReservationCancelled",
        reason,
        before=before,
        after=_snapshot(reservation),
    )
    _follow(uow, caller, reservation, reservation.property, _stay_window(reservation))
    review_overlaps(uow, reservation, before)
    follow_turnovers(uow, caller, reservation.property)
    return True


def follow_property(uow: UnitOfWork, caller: Caller, prop: Property) -> None:
    """Re-derive windows and lock sets after the property's zone, times or locks changed.

    Part of the caller's transaction: the property services call it before committing.
    """
    for reservation in uow.reservations.of_property_ending_after(prop.id, uow.now):
        before = _snapshot(reservation)
        window = _window(prop, stay_of(reservation))
        reservation.starts_at, reservation.ends_at = window.starts_at, window.ends_at
        _follow(uow, caller, reservation, prop, window)
        review_overlaps(uow, reservation, before)  # new check-in or -out hours can make some
    for grant in uow.grants.of_property(prop.id):
        if grant.kind != GrantKind.GUEST and grant.revoked_at is None and grant.ends_at > uow.now:
            move_grant(
                uow,
                caller,
                grant,
                TimeWindow(grant.starts_at, grant.ends_at),
                property_target_of(uow, grant, prop),
            )
    settle_backup_codes(uow, caller, prop)
    follow_turnovers(uow, caller, prop, settings_changed=True)


def get_reservation(uow: UnitOfWork, caller: Caller, reservation_id: str) -> ReservationView:
    """One reservation of the caller's organisation, with its guest grant."""
    with uow:
        reservation = _get(uow, caller, reservation_id)
        return ReservationView(reservation, uow.grants.guest_grant_of(reservation.id))


def list_reservations(
    uow: UnitOfWork, caller: Caller, which: ReservationFilter
) -> list[ReservationView]:
    """Reservations of the caller's organisation matching ``which``, with their guest grants.

    ``which.property_id`` may be any reference a property answers to (id, external id, name),
    as when the reservation was recorded.
    """
    with uow:
        if which.property_id is not None:  # "" names no property; it is not "any"
            prop = uow.properties.find(caller.organisation_id, which.property_id)
            if prop is None:
                raise NotFound("property", which.property_id)
            which = replace(which, property_id=prop.id)
        found = uow.reservations.search(caller.organisation_id, which)
        grants = uow.grants.guest_grants_of([reservation.id for reservation in found])
        return [ReservationView(reservation, grants.get(reservation.id)) for reservation in found]


def stay_of(reservation: Reservation) -> Stay:
    """The reservation's stay as a domain value."""
    return Stay(
        reservation.check_in,
        reservation.check_out,
        reservation.check_in_at,
        reservation.check_out_at,
    )


def _follow(
    uow: UnitOfWork,
    caller: Caller,
    reservation: Reservation,
    prop: Property,
    window: TimeWindow,
    *,
    new: bool = False,
) -> Grant | None:
    """Make the guest grant (and a released backup code) match the reservation.

    A confirmed stay also makes sure its property, when it keeps backup codes, has a standing
    one on its locks. A reservation created in this transaction has no grant of any kind yet
    (nothing could name its id before), so ``new`` skips looking for them.
    """
    grant = _follow_guest_grant(uow, caller, reservation, prop, window, new)
    if not new:
        follow_backup_code(uow, caller, reservation)
    if reservation.status == ReservationStatus.CONFIRMED and prop.backup_codes:
        ensure_backup_grant(uow, caller, prop)
    return grant


def _follow_guest_grant(
    uow: UnitOfWork,
    caller: Caller,
    reservation: Reservation,
    prop: Property,
    window: TimeWindow,
    new: bool,
) -> Grant | None:
    grant = None if new else uow.grants.guest_grant_of(reservation.id)
    if reservation.status != ReservationStatus.CONFIRMED:
        if grant is not None:
            revoke(uow, caller, grant, f"the reservation is {reservation.status}")
        return grant
    target = GrantTarget.of_property(prop)
    if grant is None:
        return open_grant(
            uow,
            caller,
            kind=GrantKind.GUEST,
            holder=reservation.guest_name,
            window=window,
            target=target,
            reservation_id=reservation.id,
        )
    grant.holder = reservation.guest_name
    if grant.revoked_at is not None:
        reinstate(uow, caller, grant, window, target)
    else:
        move_grant(uow, caller, grant, window, target)
    return grant


def _new_reservation(uow: UnitOfWork, caller: Caller, details: ReservationDetails) -> Reservation:
    # The id is made here rather than at the INSERT, so the events and the grant can name
    # the reservation without a flush of their own.
    reservation = Reservation(
        id=new_id("res"),
        organisation_id=caller.organisation_id,
        source=details.source,
        external_id=details.external_id,
        created_at=uow.now,
    )
    uow.reservations.add(reservation)
    return reservation


def _apply(
    reservation: Reservation,
    prop: Property,
    details: ReservationDetails,
    window: TimeWindow,
    fingerprint: str,
    uow: UnitOfWork,
) -> None:
    reservation.property = prop
    reservation.property_id = prop.id
    reservation.status = details.status.value
    reservation.check_in, reservation.check_out = details.stay.check_in, details.stay.check_out
    reservation.check_in_at = details.stay.check_in_at
    reservation.check_out_at = details.stay.check_out_at
    reservation.starts_at, reservation.ends_at = window.starts_at, window.ends_at
    reservation.guest_name = details.guest.name
    reservation.guest_email = details.guest.email
    reservation.guest_phone = details.guest.phone
    reservation.guest_locale = details.guest.locale
    reservation.guest_count = details.guest.count
    if details.booking_reference:  # a source that does not know it never erases it
        reservation.booking_reference = details.booking_reference[:100]
    reservation.fingerprint = fingerprint
    reservation.updated_at = uow.now


def _window(prop: Property, stay: Stay) -> TimeWindow:
    return stay.window(zone_named(prop.time_zone), prop.check_in_time, prop.check_out_time)


def _stay_window(reservation: Reservation) -> TimeWindow:
    return TimeWindow(reservation.starts_at, reservation.ends_at)


def _fingerprint(
    property_id: str,
    status: ReservationStatus,
    stay: Stay,
    guest: Guest,
    booking_reference: str | None = None,
) -> str:
    """A digest of everything that matters, so a replayed delivery is recognised as one."""
    content: dict[str, Any] = {
        "property": property_id,
        "status": status.value,
        "stay": [stay.check_in, stay.check_out, stay.check_in_at, stay.check_out_at],
        "guest": [guest.name, guest.email, guest.phone, guest.locale, guest.count],
    }
    if booking_reference:  # only when given: the digests of earlier rows stay as they were
        content["booking_reference"] = booking_reference
    canonical = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fingerprint_of_row(reservation: Reservation) -> str:
    guest = _guest_of(reservation)
    status = ReservationStatus(reservation.status)
    return _fingerprint(
        reservation.property_id, status, stay_of(reservation), guest, reservation.booking_reference
    )


def _get(uow: UnitOfWork, caller: Caller, reservation_id: str) -> Reservation:
    reservation = uow.reservations.get(caller.organisation_id, reservation_id)
    if reservation is None:
        raise NotFound("reservation", reservation_id)
    return reservation


def _snapshot(reservation: Reservation) -> dict[str, Any]:
    """What the audit log keeps of a reservation: contact details are left out on purpose."""
    return {
        "property_id": reservation.property_id,
        "status": reservation.status,
        "check_in": reservation.check_in.isoformat(),
        "check_out": reservation.check_out.isoformat(),
        "check_in_at": reservation.check_in_at.isoformat() if reservation.check_in_at else None,
        "check_out_at": reservation.check_out_at.isoformat() if reservation.check_out_at else None,
        "starts_at": reservation.starts_at.isoformat(),
        "ends_at": reservation.ends_at.isoformat(),
    }
