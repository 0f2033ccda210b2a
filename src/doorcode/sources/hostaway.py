"""Hostaway's unified webhooks, translated into the generic reservation body.

Written from Hostaway's published API documentation (https://api.hostaway.com/documentation,
sources at https://github.com/Hostaway/api): the unified webhook posts
``{"object": "reservation", "event": "reservation.created" | "reservation.updated",
"accountId": ..., "data": <reservation object>}``. Some integrators report the reservation
under ``payload.data`` instead; both are read. Other events (new messages) are ignored.

Hostaway cannot sign its webhooks. Its webhook settings take a login and a password that it
sends as HTTP basic auth: set the login to the doorcode source id and the password to the
source's secret.

Fields of the reservation object:

    data.id                     → external_id (Hostaway's reservation id)
    data.listingMapId           → property (set the property's external id to the listing id)
    data.status                 → status, see below
    data.arrivalDate            → check_in          data.departureDate → check_out
    data.checkInTime (hour)     → check_in_time     data.checkOutTime  → check_out_time
    data.guestName (or first and last name), guestEmail, phone, numberOfGuests → guest
    data.updatedOn (else latestActivityOn), "YYYY-MM-DD HH:MM:SS" in UTC → updated_at. Both
        appear in Hostaway's reservation records though the object's field table leaves
        them out; without either, the last delivery wins.
    data.isDatesUnspecified = 1 → refused: Hostaway then fills the dates with yesterday

Statuses:

    confirmed ← new, modified, confirmed, ownerStay (an owner staying needs a code too)
    pending   ← pending, awaitingPayment, inquiry, inquiryPreapproved
    cancelled ← cancelled, declined, expired, inquiryDenied, inquiryTimedout, inquiryNotPossible
    anything else is refused with reason ``unknown_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from doorcode.domain.reservations import ReservationStatus
from doorcode.sources.adapter import as_name, as_text, usable_email, usable_phone
from doorcode.sources.errors import NotAReservation, PayloadRejected

__all__ = ["STATUSES", "HostawayAdapter"]

CONFIRMED, PENDING, CANCELLED = (
    ReservationStatus.CONFIRMED,
    ReservationStatus.PENDING,
    ReservationStatus.CANCELLED,
)
STATUSES: Mapping[str, ReservationStatus] = {
    "new": CONFIRMED,
    "modified": CONFIRMED,
    "confirmed": CONFIRMED,
    "ownerStay": CONFIRMED,
    "pending": PENDING,
    "awaitingPayment": PENDING,
    "inquiry": PENDING,
    "inquiryPreapproved": PENDING,
    "cancelled": CANCELLED,
    "declined": CANCELLED,
    "expired": CANCELLED,
    "inquiryDenied": CANCELLED,
    "inquiryTimedout": CANCELLED,
    "inquiryNotPossible": CANCELLED,
}


NAME_FIELDS = ("guestName", "guestFirstName", "guestLastName")


class HostawayAdapter:
    """Reads Hostaway's reservation webhooks."""

    field_names: Mapping[str, str] = {
        "external_id": "data.id",
        "property": "data.listingMapId",
        "status": "data.status",
        "check_in": "data.arrivalDate",
        "check_out": "data.departureDate",
        "check_in_time": "data.checkInTime",
        "check_out_time": "data.checkOutTime",
        "guest.name": "data.guestName",
        "guest.count": "data.numberOfGuests",
        "guest.locale": "data.guestLocale",
    }

    def to_generic(self, document: dict[str, Any]) -> dict[str, Any]:
        """The generic body for a Hostaway webhook document."""
        if document.get("object", "reservation") != "reservation":
            raise NotAReservation
        if not str(document.get("event", "reservation")).startswith("reservation"):
            raise NotAReservation
        data = _reservation_object(document)
        if data.get("isDatesUnspecified") in (1, True):
            raise PayloadRejected(
                "dates_unspecified", "Hostaway did not receive the dates of this booking yet"
            )
        return {
            "version": 1,
            "external_id": as_text(data.get("id")),
            "property": as_text(data.get("listingMapId")),
            "status": _status(data.get("status")),
            "check_in": data.get("arrivalDate"),
            "check_out": data.get("departureDate"),
            "check_in_time": _hour(data.get("checkInTime")),
            "check_out_time": _hour(data.get("checkOutTime")),
            "guest": _guest(data),
            "updated_at": _updated_on(data.get("updatedOn") or data.get("latestActivityOn")),
        }


def _reservation_object(document: dict[str, Any]) -> dict[str, Any]:
    data = document.get("data")
    if data is None and isinstance(document.get("payload"), dict):
        data = document["payload"].get("data")
    if not isinstance(data, dict):
        raise PayloadRejected(
            "invalid_payload",
            "data: the reservation object is missing",
            [{"field": "data", "message": "Field required"}],
        )
    return data


def _status(value: Any) -> str:
    if isinstance(value, str) and value in STATUSES:
        return STATUSES[value].value
    raise PayloadRejected(
        "unknown_status",
        f"Hostaway status {value!r} is not one doorcode knows",
        [{"field": "data.status", "message": "unknown status"}],
    )


def _hour(value: Any) -> Any:
    """Hostaway gives check-in and check-out times as whole hours (0–23)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return f"{value:02d}:00"
    return value


def _guest(data: dict[str, Any]) -> dict[str, Any]:
    for field in NAME_FIELDS:
        if data.get(field) is not None and not isinstance(data[field], str):
            raise PayloadRejected(
                "invalid_payload",
                f"data.{field}: must be text",
                [{"field": f"data.{field}", "message": "must be text"}],
            )
    name = data.get("guestName") or " ".join(
        part for part in (data.get("guestFirstName"), data.get("guestLastName")) if part
    )
    count = data.get("numberOfGuests")
    guest: dict[str, Any] = {
        "name": as_name(name),
        "email": usable_email(data.get("guestEmail")),
        "phone": usable_phone(data.get("phone")),
        "count": count if isinstance(count, int) and count >= 1 else None,
    }
    if isinstance(data.get("guestLocale"), str):
        guest["locale"] = data["guestLocale"]
    return guest


def _updated_on(value: Any) -> str | None:
    """``updatedOn`` reads "2026-11-20 08:15:00" in UTC; unreadable means no ordering."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
