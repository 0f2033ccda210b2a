"""Bookings typed in the dashboard: a new reservation, changing one, cancelling one.

Dates and times are read on the chosen property's wall clock (the form says which zone).
A form that cannot be saved comes back with what was typed and the reason, and nothing
stored changes: the service either records the whole change or none of it.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.errors import DomainError
from doorcode.domain.reservations import (
    EMAIL_PATTERN,
    LOCALE_PATTERN,
    PHONE_PATTERN,
    ReservationStatus,
    Stay,
)
from doorcode.services import reservations
from doorcode.services.dashboard import reservation_page
from doorcode.services.errors import ServiceError
from doorcode.services.properties import list_properties
from doorcode.services.web_sessions import ActiveSession
from doorcode.store.models import Property, Reservation
from doorcode.web.csrf import CheckedWriterSessionDep
from doorcode.web.forms import Form, FormProblem, read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import WriterSessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EDITABLE_STATUSES = ("confirmed", "pending")
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("", "English (default)"),
    ("pt", "Português"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("it", "Italiano"),
)
GUEST_FIELDS = ("guest_name", "guest_email", "guest_phone", "guest_locale", "guest_count")
STAY_FIELDS = ("check_in", "check_out", "check_in_at", "check_out_at")


@router.get("/reservations/new")
def new_reservation(request: Request, session: WriterSessionDep, property: str = "") -> Response:
    """The form for a booking taken directly (phone, e-mail, a repeat guest)."""
    values = dict.fromkeys((*GUEST_FIELDS, *STAY_FIELDS, "reference"), "")
    values.update(status="confirmed", property=property)
    return _form(request, session, values)


@router.post("/reservations")
async def add_reservation(request: Request, session: CheckedWriterSessionDep) -> Response:
    """Record the booking; its guest gets a code as any other confirmed booking does."""
    form = await read_form(request)
    try:
        details = reservations.ReservationDetails(
            source=reservations.OPERATOR_SOURCE,
            external_id=form.text("reference", most=200),
            property_ref=form.text("property", required=True),
            status=ReservationStatus(form.choice("status", EDITABLE_STATUSES, "confirmed")),
            stay=_stay(form),
            guest=_guest(form),
        )
        outcome = reservations.create_reservation(
            runtime_of(request).uow(), session.caller, details
        )
    except (ServiceError, DomainError) as err:
        return _form(request, session, _echo(form), error=reason_on_form(err), status=422)
    return RedirectResponse(f"/reservations/{outcome.reservation.id}", status_code=303)


@router.get("/reservations/{reservation_id}/edit")
def edit_reservation(request: Request, reservation_id: str, session: WriterSessionDep) -> Response:
    """The booking's dates, times, status and guest, to change."""
    found = reservation_page(runtime_of(request).uow(), session.caller, reservation_id)
    return _form(request, session, _values_of(found.reservation), reservation=found.reservation)


@router.post("/reservations/{reservation_id}/edit")
async def change_reservation(
    request: Request, reservation_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Save the change; the guest's code moves with the dates and keeps its digits."""
    runtime = runtime_of(request)
    # Another organisation's booking is not found before the form is read, whatever it holds.
    current = reservation_page(runtime.uow(), session.caller, reservation_id).reservation
    form = await read_form(request)
    try:
        allowed = (*EDITABLE_STATUSES, "cancelled")
        edit = reservations.ReservationEdit(
            status=ReservationStatus(form.choice("status", allowed, current.status)),
            stay=_stay(form),
            guest=_guest(form),
        )
        reservations.change_reservation(runtime.uow(), session.caller, reservation_id, edit)
    except (ServiceError, DomainError) as err:
        reason = reason_on_form(err)
        values = _echo(form)
        values["property"] = current.property_id
        return _form(request, session, values, reservation=current, error=reason, status=422)
    return RedirectResponse(f"/reservations/{reservation_id}", status_code=303)


@router.get("/reservations/{reservation_id}/cancel")
def confirm_cancel(request: Request, reservation_id: str, session: WriterSessionDep) -> Response:
    """Ask before cancelling: the guest's code leaves every lock."""
    found = reservation_page(runtime_of(request).uow(), session.caller, reservation_id)
    return render(
        request, "reservation_cancel.html", session=session, section="reservations", page=found
    )


@router.post("/reservations/{reservation_id}/cancel")
async def cancel_reservation(
    request: Request, reservation_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Cancel the booking; its guest code is revoked and leaves every lock."""
    form = await read_form(request)
    reason = form.text("reason", most=400) or f"cancelled by {session.username} in the dashboard"
    uow = runtime_of(request).uow()
    reservations.cancel_reservation(uow, session.caller, reservation_id, reason)
    return RedirectResponse(f"/reservations/{reservation_id}", status_code=303)


def _stay(form: Form) -> Stay:
    """Check-in and check-out dates, with optional times (empty: the property's defaults)."""
    check_in, check_out = _date(form, "check_in"), _date(form, "check_out")
    return Stay(check_in, check_out, _time(form, "check_in_at"), _time(form, "check_out_at"))


def _guest(form: Form) -> reservations.Guest:
    """The guest's name and how to reach them, each checked so a message can be addressed
    (lengths as the API allows them)."""
    return reservations.Guest(
        name=form.text("guest_name", required=True, most=200),
        email=_matching(form, "guest_email", EMAIL_PATTERN, "an email address like a@b.com", 320),
        phone=_matching(form, "guest_phone", PHONE_PATTERN, "a phone number like +351 912 345", 40),
        locale=_matching(
            form, "guest_locale", LOCALE_PATTERN, "a language code like pt or en-GB", 16
        ),
        count=form.optional_number("guest_count", low=1, high=99),
    )


def _matching(form: Form, name: str, pattern: str, meaning: str, most: int) -> str | None:
    text = form.text(name, most=most)
    if text and not re.fullmatch(pattern, text):
        raise FormProblem(name, f"is not {meaning}")
    return text or None


def _date(form: Form, name: str) -> date:
    try:
        return date.fromisoformat(form.text(name, required=True))
    except ValueError as err:
        raise FormProblem(name.replace("_", "-"), "is not a date like 2026-12-24") from err


def _time(form: Form, name: str) -> time | None:
    return form.time_of_day(name, "15:00", label=name.replace("_at", " time"))


def _values_of(reservation: Reservation) -> dict[str, Any]:
    return {
        "property": reservation.property_id,
        "status": reservation.status,
        "reference": reservation.external_id,
        "check_in": reservation.check_in.isoformat(),
        "check_out": reservation.check_out.isoformat(),
        "check_in_at": _hhmm(reservation.check_in_at),
        "check_out_at": _hhmm(reservation.check_out_at),
        "guest_name": reservation.guest_name,
        "guest_email": reservation.guest_email or "",
        "guest_phone": reservation.guest_phone or "",
        "guest_locale": reservation.guest_locale or "",
        "guest_count": str(reservation.guest_count or ""),
    }


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def _echo(form: Form) -> dict[str, str]:
    """What was submitted, to show the form again as it was sent."""
    names = ("property", "status", "reference", *STAY_FIELDS, *GUEST_FIELDS)
    return {name: form.typed(name) for name in names}


def _form(
    request: Request,
    session: ActiveSession,
    values: dict[str, Any],
    *,
    reservation: Reservation | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    properties = list_properties(runtime_of(request).uow(), session.caller)
    chosen = _property(properties, values["property"])
    return render(
        request,
        "reservation_form.html",
        status=status,
        session=session,
        section="reservations",
        values=values,
        reservation=reservation,
        properties=properties,
        chosen=chosen,
        statuses=EDITABLE_STATUSES,
        languages=LANGUAGES,
        error=error,
    )


def _property(properties: list[Property], reference: str) -> Property | None:
    return next((prop for prop in properties if reference in (prop.id, prop.external_id)), None)
