"""Staff schedules: the list, one schedule with its windows, new, change and revoke.

Times are local to each property (the form says so, and names each property's zone); a
form that cannot be saved comes back with what was typed and the reason, unchanged.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.errors import DomainError, InstantOutOfRange
from doorcode.domain.windows import check_day
from doorcode.services import schedules
from doorcode.services.errors import ServiceError
from doorcode.services.properties import list_properties
from doorcode.services.web_sessions import ActiveSession
from doorcode.web.csrf import CheckedWriterSessionDep
from doorcode.web.forms import Form, FormProblem, read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import SessionDep, WriterSessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WEEKDAYS = tuple(enumerate(schedules.WEEKDAY_NAMES))


@router.get("/schedules")
def schedule_list(request: Request, session: SessionDep) -> Response:
    """Every staff schedule, live ones first."""
    found = schedules.list_schedules(runtime_of(request).uow(), session.caller)
    return render(request, "schedules.html", session=session, section="schedules", rows=found)


@router.get("/schedules/new")
def new_schedule(request: Request, session: WriterSessionDep, property: str = "") -> Response:
    """The form for a recurring staff code."""
    today = runtime_of(request).clock().date()
    values: dict[str, Any] = {
        "holder": "",
        "properties": [property] if property else [],
        "frequency": "weekly",
        "weekdays": [],
        "starts": "10:00",
        "ends": "14:00",
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(weeks=12)).isoformat(),
        "except_days": "",
    }
    return _form(request, session, values)


@router.post("/schedules")
async def add_schedule(request: Request, session: CheckedWriterSessionDep) -> Response:
    """Create the schedule; each window becomes a staff code on each property's locks."""
    form = await read_form(request)
    try:
        made = schedules.create_schedule(runtime_of(request).uow(), session.caller, _details(form))
    except (ServiceError, DomainError) as err:
        return _form(request, session, _echo(form), error=reason_on_form(err), status=422)
    return RedirectResponse(f"/schedules/{made.id}", status_code=303)


@router.get("/schedules/{schedule_id}")
def schedule_page(request: Request, schedule_id: str, session: SessionDep) -> Response:
    """One schedule and its windows on each property's clock."""
    view = schedules.get_schedule(runtime_of(request).uow(), session.caller, schedule_id)
    zones = {prop.id: prop.time_zone for prop in view.schedule.properties}
    return render(
        request,
        "schedule.html",
        session=session,
        section="schedules",
        view=view,
        zones=zones,
        now=runtime_of(request).clock(),
    )


@router.get("/schedules/{schedule_id}/edit")
def edit_schedule(request: Request, schedule_id: str, session: WriterSessionDep) -> Response:
    """The schedule's recurrence, to change as one."""
    view = schedules.get_schedule(runtime_of(request).uow(), session.caller, schedule_id)
    return _form(request, session, _values_of(view.details), schedule_id=schedule_id)


@router.post("/schedules/{schedule_id}/edit")
async def change_schedule(
    request: Request, schedule_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Save: windows that stay keep their code; the others go or come."""
    # Another organisation's schedule is not found before the form is read, whatever it holds.
    schedules.get_schedule(runtime_of(request).uow(), session.caller, schedule_id)
    form = await read_form(request)
    uow = runtime_of(request).uow()
    try:
        schedules.change_schedule(uow, session.caller, schedule_id, _details(form))
    except (ServiceError, DomainError) as err:
        reason, values = reason_on_form(err), _echo(form)
        return _form(request, session, values, schedule_id=schedule_id, error=reason, status=422)
    return RedirectResponse(f"/schedules/{schedule_id}", status_code=303)


@router.post("/schedules/{schedule_id}/revoke")
async def revoke_schedule(
    request: Request, schedule_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Revoke the schedule and every window not over yet."""
    form = await read_form(request)
    reason = form.text("reason", most=400) or f"revoked by {session.username} in the dashboard"
    schedules.revoke_schedule(runtime_of(request).uow(), session.caller, schedule_id, reason)
    return RedirectResponse(f"/schedules/{schedule_id}", status_code=303)


def _details(form: Form) -> schedules.ScheduleDetails:
    frequency = schedules.Frequency(form.choice("frequency", ("weekly", "daily"), "weekly"))
    weekdays = frozenset(_weekday(value) for value in form.texts("weekdays"))
    return schedules.ScheduleDetails(
        holder=form.text("holder", required=True, most=200),
        property_refs=tuple(form.texts("properties")),
        frequency=frequency,
        starts=_time(form, "starts"),
        ends=_time(form, "ends"),
        first_day=_date(form, "first_day", form.text("first_day", required=True)),
        last_day=_date(form, "last_day", form.text("last_day", required=True)),
        weekdays=weekdays,
        except_days=frozenset(
            _date(form, "except_days", part.strip())
            for part in form.text("except_days").replace("\n", ",").split(",")
            if part.strip()
        ),
    )


def _weekday(value: str) -> int:
    if value not in {"0", "1", "2", "3", "4", "5", "6"}:  # "²".isdigit() is true
        raise FormProblem("weekdays", "is not a day of the week")
    return int(value)


def _time(form: Form, name: str) -> time:
    at = form.time_of_day(name, "10:00")
    if at is None:
        raise FormProblem(name, "is required")
    return at


def _date(form: Form, name: str, text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as err:
        raise FormProblem(name, f"{text[:20]!r} is not a date like 2026-12-24") from err
    try:
        return check_day(name, day)
    except InstantOutOfRange as err:
        raise FormProblem(name, "is out of range") from err


def _echo(form: Form) -> dict[str, Any]:
    return {
        "holder": form.typed("holder"),
        "properties": form.typed_all("properties"),
        "frequency": form.typed("frequency"),
        "weekdays": form.typed_all("weekdays"),
        "starts": form.typed("starts"),
        "ends": form.typed("ends"),
        "first_day": form.typed("first_day"),
        "last_day": form.typed("last_day"),
        "except_days": form.typed("except_days"),
    }


def _values_of(details: schedules.ScheduleDetails) -> dict[str, Any]:
    return {
        "holder": details.holder,
        "properties": list(details.property_refs),
        "frequency": details.frequency.value,
        "weekdays": [str(day) for day in sorted(details.weekdays)],
        "starts": details.starts.strftime("%H:%M"),
        "ends": details.ends.strftime("%H:%M"),
        "first_day": details.first_day.isoformat(),
        "last_day": details.last_day.isoformat(),
        "except_days": ", ".join(day.isoformat() for day in sorted(details.except_days)),
    }


def _form(
    request: Request,
    session: ActiveSession,
    values: dict[str, Any],
    *,
    schedule_id: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "schedule_form.html",
        status=status,
        session=session,
        section="schedules",
        values=values,
        schedule_id=schedule_id,
        properties=list_properties(runtime_of(request).uow(), session.caller),
        weekdays=WEEKDAYS,
        error=error,
    )
