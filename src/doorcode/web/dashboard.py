"""Today at a glance: arrivals and departures with their codes' status, alerts, locks in trouble."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.services.alerts import DISMISSIBLE, dismiss_alert
from doorcode.services.dashboard import overview
from doorcode.web.csrf import CheckedWriterSessionDep
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def overview_page(request: Request, session: SessionDep) -> Response:
    """Today's arrivals and departures, open alerts, and locks that need a look."""
    runtime = runtime_of(request)
    today = overview(runtime.uow(), session.caller, runtime.settings.battery_alert_percent)
    return render(
        request,
        "overview.html",
        session=session,
        section="overview",
        today=today,
        dismissible=DISMISSIBLE,
        now=runtime.clock(),
    )


@router.post("/alerts/{alert_id}/dismiss")
async def dismiss(request: Request, alert_id: str, session: CheckedWriterSessionDep) -> Response:
    """Close an alert about something a guest reported, once someone dealt with it."""
    dismiss_alert(runtime_of(request).uow(), session.caller, alert_id)
    return RedirectResponse("/", status_code=303)
