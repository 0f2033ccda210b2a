"""Codes (grants): the list, one grant, revealing (audited), revoking, regenerating, creating.

Revealing is a POST: it records an event, so a link a crawler or a prefetch follows must
never do it. Revoking and regenerating ask for confirmation on a page of their own, which
works without JavaScript and reads well to a screen reader.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.errors import DomainError
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import Edge, TimeWindow, zone_named
from doorcode.services import grants
from doorcode.services.access_codes import AccessCode, reveal_access_codes
from doorcode.services.dashboard import display_zone, grant_page, grant_rows
from doorcode.services.errors import InvalidRequest, ServiceError
from doorcode.services.locks import list_locks
from doorcode.services.properties import list_properties
from doorcode.services.reservations import get_reservation
from doorcode.services.web_sessions import ActiveSession
from doorcode.store.models import Lock, Property
from doorcode.store.repositories import GrantFilter
from doorcode.web.csrf import CheckedSessionDep, CheckedWriterSessionDep
from doorcode.web.forms import Form, read_form
from doorcode.web.reservations import render_reservation
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import SessionDep, WriterSessionDep, runtime_of
from doorcode.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

KINDS = ("staff", "manual", "master", "backup", "guest")
MANUAL_KINDS = ("staff", "manual", "master")


@router.get("/codes")
def codes(
    request: Request, session: SessionDep, kind: str = "", include_past: bool = False
) -> Response:
    """Staff, manual, master and backup codes (guest codes with ``kind=guest``)."""
    runtime = runtime_of(request)
    which = GrantFilter(
        kind=kind if kind in KINDS else None,
        excluding_kinds=() if kind == "guest" else ("guest",),
        ending_after=None if include_past else runtime.clock(),
        limit=500,
    )
    rows = grant_rows(runtime.uow(), session.caller, which)
    return render(
        request,
        "codes.html",
        session=session,
        section="codes",
        rows=rows,
        kinds=KINDS,
        chosen={"kind": kind, "past": include_past},
    )


@router.get("/grants/{grant_id}")
def grant(request: Request, grant_id: str, session: SessionDep) -> Response:
    """One grant: where its code stands on each lock, and its events."""
    return _grant_page(request, session, grant_id)


@router.post("/grants/{grant_id}/reveal")
async def reveal(request: Request, grant_id: str, session: CheckedSessionDep) -> Response:
    """Show the grant's code on each lock; the reveal is an audit event (viewers: 403)."""
    back = (await read_form(request)).typed("back")  # before the reveal: it is audited
    uow = runtime_of(request).uow()
    revealed = {grant_id: reveal_access_codes(uow, session.caller, grant_id)}
    found = grants.get_grant(uow, session.caller, grant_id)
    if back == "reservation" and found.reservation_id:
        return render_reservation(request, session, found.reservation_id, revealed)
    return _grant_page(request, session, grant_id, revealed)


@router.get("/grants/{grant_id}/revoke")
def confirm_revoke(
    request: Request, grant_id: str, session: WriterSessionDep, back: str = ""
) -> Response:
    """Ask before revoking."""
    return _confirm(request, session, grant_id, "revoke", back)


@router.post("/grants/{grant_id}/revoke")
async def revoke(request: Request, grant_id: str, session: CheckedWriterSessionDep) -> Response:
    """Revoke at once: the code leaves every lock."""
    form = await read_form(request)
    uow = runtime_of(request).uow()
    reason = form.text("reason", most=400) or f"revoked by {session.username} in the dashboard"
    revoked = grants.revoke_grant(uow, session.caller, grant_id, reason)
    return _back(form, revoked.id, revoked.reservation_id)


@router.get("/grants/{grant_id}/regenerate")
def confirm_regenerate(
    request: Request, grant_id: str, session: WriterSessionDep, back: str = ""
) -> Response:
    """Ask before giving the grant a new code."""
    return _confirm(request, session, grant_id, "regenerate", back)


@router.post("/grants/{grant_id}/regenerate")
async def regenerate(request: Request, grant_id: str, session: CheckedWriterSessionDep) -> Response:
    """A fresh code for the same grant; the old one leaves the locks."""
    form = await read_form(request)
    changed = grants.regenerate_code(runtime_of(request).uow(), session.caller, grant_id)
    return _back(form, changed.id, changed.reservation_id)


@router.get("/codes/new")
def new_code(
    request: Request, session: WriterSessionDep, reservation: str = "", property: str = ""
) -> Response:
    """The form for a staff, manual or master code, prefilled for a reservation if given."""
    return _code_form(request, session, reservation=reservation, property_id=property)


@router.post("/codes")
async def create_code(request: Request, session: CheckedWriterSessionDep) -> Response:
    """Create the code; the form comes back with the reason if it cannot be."""
    form = await read_form(request)
    runtime = runtime_of(request)
    uow = runtime.uow()
    properties = list_properties(uow, session.caller)
    locks = list_locks(uow, session.caller)
    try:
        request_ = _manual_request(form, properties, locks)
        created = grants.create_manual_grant(uow, session.caller, request_)
    except (ServiceError, DomainError) as err:
        return _code_form(
            request,
            session,
            reservation=form.typed("reservation"),
            property_id=form.typed("property"),
            form=form,
            error=reason_on_form(err),
            status=422,
        )
    return RedirectResponse(f"/grants/{created.id}", status_code=303)


def _manual_request(
    form: Form, properties: list[Property], locks: list[Lock]
) -> grants.ManualGrantRequest:
    kind = GrantKind(form.choice("kind", MANUAL_KINDS, "staff"))
    property_id = form.text("property")
    lock_ids = form.texts("locks")
    if not property_id and not lock_ids:
        raise InvalidRequest("choose a property, or at least one lock")
    if property_id and lock_ids:
        raise InvalidRequest("choose a property or locks, not both")
    zone = _zone_for(property_id, lock_ids, properties, locks)
    window = TimeWindow(
        form.local_time("starts_at", zone, Edge.START), form.local_time("ends_at", zone, Edge.END)
    )
    return grants.ManualGrantRequest(
        kind=kind,
        holder=form.text("holder", most=200),
        window=window,
        property_ref=property_id or None,
        lock_refs=tuple(lock_ids),
        reservation_id=form.text("reservation") or None,
        code=form.text("code") or None,
        code_length=form.optional_number("code_length", low=4, high=10),
    )


def _zone_for(
    property_id: str, lock_ids: list[str], properties: list[Property], locks: list[Lock]
) -> ZoneInfo:
    """The wall clock the form's times are on: the property's, or the chosen locks' one."""
    for prop in properties:
        if prop.id == property_id:
            return zone_named(prop.time_zone)
    chosen = [lock for lock in locks if lock.id in lock_ids]
    return display_zone(prop for lock in chosen for prop in lock.properties)


def _code_form(
    request: Request,
    session: ActiveSession,
    *,
    reservation: str = "",
    property_id: str = "",
    form: Form | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    uow = runtime.uow()
    properties = list_properties(uow, session.caller)
    locks = list_locks(uow, session.caller)
    starts, ends = runtime.clock(), runtime.clock() + timedelta(hours=4)
    stay = None
    if reservation:
        stay = get_reservation(uow, session.caller, reservation).reservation
        property_id = property_id or stay.property_id
        starts, ends = stay.starts_at, stay.ends_at
    zone = _prefill_zone(property_id, properties)
    values = {
        "kind": "staff",
        "holder": "",
        "property": property_id,
        "locks": [],
        "starts_at": _input(starts, zone) if zone else "",
        "ends_at": _input(ends, zone) if zone else "",
        "code": "",
        "code_length": "",
    }
    if form is not None:
        values.update(
            {name: form.typed(name) for name in ("kind", "holder", "starts_at", "ends_at")}
        )
        values.update({"property": form.typed("property"), "locks": form.typed_all("locks")})
        values.update({"code": "", "code_length": form.typed("code_length")})
    return render(
        request,
        "code_form.html",
        status=status,
        session=session,
        section="codes",
        properties=properties,
        locks=locks,
        reservation=stay,
        values=values,
        kinds=MANUAL_KINDS,
        error=error,
        zone=zone.key if zone else None,
    )


def _prefill_zone(property_id: str, properties: list[Property]) -> ZoneInfo | None:
    """The clock the form's times are read on, when it is known before the form is sent.

    The times are read on the chosen property's clock (``_zone_for``): prefilled on any other
    (say UTC, before a property is chosen), "now" would become another instant, hours off.
    So without a property the fields start empty, unless every property keeps one clock.
    """
    for prop in properties:
        if prop.id == property_id:
            return zone_named(prop.time_zone)
    zones = {prop.time_zone for prop in properties}
    return zone_named(zones.pop()) if len(zones) == 1 else None


def _input(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _grant_page(
    request: Request,
    session: ActiveSession,
    grant_id: str,
    revealed: dict[str, list[AccessCode]] | None = None,
) -> Response:
    found = grant_page(runtime_of(request).uow(), session.caller, grant_id)
    return render(
        request,
        "grant.html",
        session=session,
        section="codes",
        page=found,
        revealed=revealed or {},
    )


def _confirm(
    request: Request, session: ActiveSession, grant_id: str, action: str, back: str
) -> Response:
    found = grant_page(runtime_of(request).uow(), session.caller, grant_id)
    return render(
        request,
        "confirm.html",
        session=session,
        section="codes",
        page=found,
        action=action,
        back=back if back in ("reservation", "grant") else "grant",
    )


def _back(form: Form, grant_id: str, reservation_id: str | None) -> Response:
    """Where to go once done: read unchecked, as the change is made and must not be refused."""
    if form.typed("back") == "reservation" and reservation_id:
        return RedirectResponse(f"/reservations/{reservation_id}", status_code=303)
    return RedirectResponse(f"/grants/{grant_id}", status_code=303)
