"""Reservations: the list with its filters, and one reservation with everything about it."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from doorcode.domain.messages import mask_recipient
from doorcode.notify.facts import guidebook_url
from doorcode.services.access_codes import AccessCode
from doorcode.services.dashboard import count_reservations, reservation_page, reservation_rows
from doorcode.services.properties import list_properties
from doorcode.services.web_sessions import ActiveSession
from doorcode.store.repositories import ReservationFilter
from doorcode.web.forms import Paging
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["render_reservation", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
STATUSES = ("confirmed", "pending", "cancelled")


@router.get("/reservations")
def reservations(
    request: Request,
    session: SessionDep,
    status: str = "",
    property: str = "",
    guest: str = "",
    include_past: bool = False,
    page: int = 1,
) -> Response:
    """Reservations, soonest first; by default those not over yet."""
    runtime = runtime_of(request)
    which = ReservationFilter(
        status=status if status in STATUSES else None,
        property_id=property or None,
        guest_name=guest[:100] or None,
        active_at_or_after=None if include_past else runtime.clock(),
        limit=PAGE,
    )
    paging = Paging.of(page, count_reservations(runtime.uow(), session.caller, which), PAGE)
    which = replace(which, offset=(paging.page - 1) * PAGE)
    rows = reservation_rows(runtime.uow(), session.caller, which)
    query = urlencode(
        {"status": status, "property": property, "guest": guest, "include_past": include_past}
    )
    return render(
        request,
        "reservations.html",
        session=session,
        section="reservations",
        rows=rows,
        paging=paging,
        query=query,
        properties=list_properties(runtime.uow(), session.caller),
        statuses=STATUSES,
        chosen={"status": status, "property": property, "guest": guest, "past": include_past},
    )


@router.get("/reservations/{reservation_id}")
def reservation(request: Request, reservation_id: str, session: SessionDep) -> Response:
    """One reservation: guest, stay, grants with per-lock status, messages, events."""
    return render_reservation(request, session, reservation_id)


def render_reservation(
    request: Request,
    session: ActiveSession,
    reservation_id: str,
    revealed: dict[str, list[AccessCode]] | None = None,
) -> Response:
    """The reservation page; ``revealed`` holds codes an operator just asked to see."""
    runtime = runtime_of(request)
    found = reservation_page(runtime.uow(), session.caller, reservation_id)
    guide = (
        guidebook_url(runtime.settings.public_url, found.guide_token)
        if revealed and found.guest_grant and found.guest_grant.id in revealed
        else None
    )
    return render(
        request,
        "reservation.html",
        session=session,
        section="reservations",
        page=found,
        revealed=revealed or {},
        guide_url=guide,
        mask=mask_recipient,
    )
