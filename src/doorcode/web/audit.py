"""The audit log, filterable by kind, subject, actor and date, newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from doorcode.domain.windows import Edge, local_instant
from doorcode.services.dashboard import count_events, display_zone, event_lines
from doorcode.services.properties import list_properties
from doorcode.store.repositories import EventFilter
from doorcode.web.forms import Paging
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 100


@router.get("/audit")
def audit(
    request: Request,
    session: SessionDep,
    kind: str = "",
    subject: str = "",
    actor: str = "",
    since: str = "",
    page: int = 1,
) -> Response:
    """Events, newest first; ``since`` is a date on the organisation's clock."""
    runtime = runtime_of(request)
    zone = display_zone(list_properties(runtime.uow(), session.caller))
    which = EventFilter(
        subject_id=subject[:64] or None,
        kind=kind[:64] or None,
        actor=actor[:200] or None,
        since=_start_of(since, zone),
        limit=PAGE,
    )
    paging = Paging.of(page, count_events(runtime.uow(), session.caller, which), PAGE)
    which = replace(which, offset=(paging.page - 1) * PAGE)
    events = event_lines(runtime.uow(), session.caller, which)
    query = urlencode({"kind": kind, "subject": subject, "actor": actor, "since": since})
    return render(
        request,
        "audit.html",
        session=session,
        section="audit",
        events=events,
        paging=paging,
        query=query,
        zone=zone,
        chosen={"kind": kind, "subject": subject, "actor": actor, "since": since},
    )


def _start_of(day: str, zone: ZoneInfo) -> datetime | None:
    """The first instant of a YYYY-MM-DD date in ``zone``; None for anything else."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    return local_instant(parsed, time(0), zone, Edge.START)
