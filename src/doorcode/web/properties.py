"""Properties: list, detail (locks, stays, timeline), add, edit, and linking locks."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.code_policy import Alphabet
from doorcode.domain.errors import DomainError
from doorcode.services import properties
from doorcode.services.dashboard import property_page
from doorcode.services.errors import ServiceError
from doorcode.services.web_sessions import ActiveSession
from doorcode.web.csrf import CheckedWriterSessionDep
from doorcode.web.forms import Form, FormProblem, read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import SessionDep, WriterSessionDep, runtime_of
from doorcode.web.templating import render
from doorcode.web.timeline import DEFAULT_DAYS, render_timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ZONES = sorted(zone for zone in available_timezones() if "/" in zone and "Etc" not in zone)


@router.get("/properties")
def property_list(request: Request, session: SessionDep) -> Response:
    """Every property with its locks."""
    found = properties.list_properties(runtime_of(request).uow(), session.caller)
    return render(request, "properties.html", session=session, section="properties", rows=found)


@router.get("/properties/new")
def new_property(request: Request, session: WriterSessionDep) -> Response:
    """The form for a new property."""
    return _form(request, session, _values_of(properties.PropertyDetails("", "Europe/London")))


@router.post("/properties")
async def add_property(request: Request, session: CheckedWriterSessionDep) -> Response:
    """Add the property (its locks are linked on its page)."""
    form = await read_form(request)
    try:
        details = _details(form)
        prop = properties.add_property(runtime_of(request).uow(), session.caller, details)
    except (ServiceError, DomainError) as err:
        return _form(request, session, _echo(form), error=reason_on_form(err), status=422)
    return RedirectResponse(f"/properties/{prop.id}", status_code=303)


@router.get("/properties/{property_id}")
def property_detail(request: Request, property_id: str, session: SessionDep) -> Response:
    """A property: its lock group, its stays to come, and its timeline."""
    runtime = runtime_of(request)
    page = property_page(runtime.uow(), session.caller, property_id, DEFAULT_DAYS)
    chart = render_timeline(
        page.timeline, span=page.span, now=runtime.clock(), zone=page.zone, label=page.prop.name
    )
    return render(
        request, "property.html", session=session, section="properties", page=page, chart=chart
    )


@router.get("/properties/{property_id}/edit")
def edit_property(request: Request, property_id: str, session: WriterSessionDep) -> Response:
    """The property's settings, to change."""
    prop = properties.find_property(runtime_of(request).uow(), session.caller, property_id)
    details = properties.details_of(prop)
    return _form(request, session, _values_of(details), property_id=prop.id)


@router.post("/properties/{property_id}/edit")
async def change_property(
    request: Request, property_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Save the settings; current grants follow a new zone or new times at once."""
    # Another organisation's property is not found before the form is read, whatever it holds.
    properties.find_property(runtime_of(request).uow(), session.caller, property_id)
    form = await read_form(request)
    try:
        changes = _changes(_details(form))
        properties.change_property(runtime_of(request).uow(), session.caller, property_id, changes)
    except (ServiceError, DomainError) as err:
        reason, values = reason_on_form(err), _echo(form)
        return _form(request, session, values, property_id=property_id, error=reason, status=422)
    return RedirectResponse(f"/properties/{property_id}", status_code=303)


@router.post("/properties/{property_id}/locks")
async def link_lock(
    request: Request, property_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Add a lock to the property's group."""
    form = await read_form(request)
    lock_id = form.text("lock_id", required=True)
    properties.link_lock(runtime_of(request).uow(), session.caller, property_id, lock_id)
    return RedirectResponse(f"/properties/{property_id}", status_code=303)


@router.post("/properties/{property_id}/locks/{lock_id}/unlink")
async def unlink_lock(
    request: Request, property_id: str, lock_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Take a lock out of the property's group."""
    properties.unlink_lock(runtime_of(request).uow(), session.caller, property_id, lock_id)
    return RedirectResponse(f"/properties/{property_id}", status_code=303)


def _details(form: Form) -> properties.PropertyDetails:
    return properties.PropertyDetails(
        name=form.text("name", required=True, most=200),
        time_zone=form.text("time_zone", required=True),
        check_in_time=_time(form, "check_in_time"),
        check_out_time=_time(form, "check_out_time"),
        code_length=form.number("code_length", low=4, high=10),
        code_alphabet=Alphabet(form.choice("code_alphabet", [a.value for a in Alphabet])),
        external_id=form.text("external_id", most=200) or None,
        native_lead_minutes=form.number("native_lead_minutes", low=0, high=30 * 24 * 60),
        unscheduled_lead_minutes=form.number("unscheduled_lead_minutes", low=0, high=30 * 24 * 60),
        address=form.text("address", most=500),
        code_reveal_hours=form.number("code_reveal_hours", low=0, high=14 * 24),
        backup_codes=form.checked("backup_codes"),
        arrival_notices=form.checked("arrival_notices"),
        no_show_time=_time(form, "no_show_time") if form.text("no_show_time") else time(23, 0),
        turnover_holder=form.text("turnover_holder", most=200),
        turnover_max_hours=form.number("turnover_max_hours", 24, low=1, high=14 * 24),
    )


def _changes(details: properties.PropertyDetails) -> dict[str, Any]:
    return {
        name: getattr(details, name) for name in properties.PropertyDetails.__dataclass_fields__
    }


def _time(form: Form, name: str) -> time:
    at = form.time_of_day(name, "15:00")
    if at is None:
        raise FormProblem(name, "is required")
    return at


def _echo(form: Form) -> dict[str, Any]:
    """What was submitted, over the defaults, to show the form again as it was sent."""
    values = _values_of(properties.PropertyDetails("", ""))
    values.update({name: form.typed(name) for name in values})
    values["backup_codes"] = form.checked("backup_codes")
    values["arrival_notices"] = form.checked("arrival_notices")
    return values


def _values_of(details: properties.PropertyDetails) -> dict[str, Any]:
    values = {name: getattr(details, name) for name in details.__dataclass_fields__}
    values["check_in_time"] = details.check_in_time.strftime("%H:%M")
    values["check_out_time"] = details.check_out_time.strftime("%H:%M")
    values["no_show_time"] = details.no_show_time.strftime("%H:%M")
    values["code_alphabet"] = details.code_alphabet.value
    values["external_id"] = details.external_id or ""
    return values


def _form(
    request: Request,
    session: ActiveSession,
    values: dict[str, Any],
    *,
    property_id: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "property_form.html",
        status=status,
        session=session,
        section="properties",
        values=values,
        property_id=property_id,
        zones=ZONES,
        alphabets=[a.value for a in Alphabet],
        error=error,
    )
