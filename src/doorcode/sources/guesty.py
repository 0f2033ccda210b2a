"""Guesty's reservation webhooks, translated into the generic reservation body.

Written from Guesty's Open API guides (https://open-api-docs.guesty.com/docs/webhooks and
https://open-api-docs.guesty.com/docs/webhooks-reservations): ``reservation.new`` and
``reservation.updated`` post ``{"event": ..., "reservation": <reservation object>}``. The
``reservation.created.v2`` and ``reservation.updated.v2`` events that replace them are read
the same way when they carry the same reservation fields; other events are ignored.

Guesty delivers through Svix and signs every request (``svix-id``, ``svix-timestamp``,
``svix-signature``). Store the ``whsec_...`` secret Guesty's ``GET /v1/webhooks-v2/secret``
returns as the source's secret.

Fields of the reservation object:

    reservation._id                     → external_id
    reservation.listingId               → property (set the property's external id to it)
    reservation.status                  → status, see below
    reservation.checkInDateLocalized    → check_in (the listing's local date)
    reservation.checkOutDateLocalized   → check_out
    reservation.plannedArrival "HH:MM"  → check_in_time    plannedDeparture → check_out_time
    reservation.guest.fullName, email, phone; reservation.guestsCount → guest
    reservation.lastUpdatedAt           → updated_at (orders the updates)

``checkIn`` and ``checkOut`` are UTC instants; the localized dates are used instead, so the
property's own zone and default times decide the window, as for every other source.

Statuses:

    confirmed ← confirmed, checked_in, checked_out
    pending   ← reserved (held, not confirmed yet), inquiry, awaiting_payment
    cancelled ← canceled, cancelled, declined, expired, closed
    anything else is refused with reason ``unknown_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from doorcode.domain.reservations import ReservationStatus
from doorcode.sources.adapter import as_name, as_text, usable_email, usable_phone
from doorcode.sources.errors import NotAReservation, PayloadRejected

__all__ = ["RESERVATION_EVENTS", "STATUSES", "GuestyAdapter"]

CONFIRMED, PENDING, CANCELLED = (
    ReservationStatus.CONFIRMED,
    ReservationStatus.PENDING,
    ReservationStatus.CANCELLED,
)
STATUSES: Mapping[str, ReservationStatus] = {
    "confirmed": CONFIRMED,
    "checked_in": CONFIRMED,
    "checked_out": CONFIRMED,
    "reserved": PENDING,
    "inquiry": PENDING,
    "awaiting_payment": PENDING,
    "canceled": CANCELLED,
    "cancelled": CANCELLED,
    "declined": CANCELLED,
    "expired": CANCELLED,
    "closed": CANCELLED,
}
RESERVATION_EVENTS = frozenset(
    {"reservation.new", "reservation.updated", "reservation.created.v2", "reservation.updated.v2"}
)


class GuestyAdapter:
    """Reads Guesty's reservation webhooks."""

    field_names: Mapping[str, str] = {
        "external_id": "reservation._id",
        "property": "reservation.listingId",
        "status": "reservation.status",
        "check_in": "reservation.checkInDateLocalized",
        "check_out": "reservation.checkOutDateLocalized",
        "check_in_time": "reservation.plannedArrival",
        "check_out_time": "reservation.plannedDeparture",
        "guest.name": "reservation.guest.fullName",
        "guest.count": "reservation.guestsCount",
        "updated_at": "reservation.lastUpdatedAt",
    }

    def to_generic(self, document: dict[str, Any]) -> dict[str, Any]:
        """The generic body for a Guesty webhook document."""
        event = document.get("event")
        if not isinstance(event, str) or event not in RESERVATION_EVENTS:  # a list is no event
            raise NotAReservation
        reservation = document.get("reservation")
        if not isinstance(reservation, dict):
            raise PayloadRejected(
                "invalid_payload",
                "reservation: the reservation object is missing",
                [{"field": "reservation", "message": "Field required"}],
            )
        return {
            "version": 1,
            "external_id": as_text(reservation.get("_id")),
            "property": as_text(reservation.get("listingId")),
            "status": _status(reservation.get("status")),
            "check_in": reservation.get("checkInDateLocalized"),
            "check_out": reservation.get("checkOutDateLocalized"),
            "check_in_time": reservation.get("plannedArrival"),
            "check_out_time": reservation.get("plannedDeparture"),
            "guest": _guest(reservation),
            "updated_at": reservation.get("lastUpdatedAt") or document.get("publishedAt"),
        }


def _status(value: Any) -> str:
    if isinstance(value, str) and value in STATUSES:
        return STATUSES[value].value
    raise PayloadRejected(
        "unknown_status",
        f"Guesty status {value!r} is not one doorcode knows",
        [{"field": "reservation.status", "message": "unknown status"}],
    )


def _guest(reservation: dict[str, Any]) -> dict[str, Any]:
    found = reservation.get("guest")
    guest: dict[str, Any] = found if isinstance(found, dict) else {}
    count = reservation.get("guestsCount")
    return {
        "name": as_name(guest.get("fullName") or ""),
        "email": usable_email(guest.get("email")),
        "phone": usable_phone(guest.get("phone")),
        "count": count if isinstance(count, int) and count >= 1 else None,
    }
