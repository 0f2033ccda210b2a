"""One search box for the whole dashboard: properties, guests and bookings."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from doorcode.services.dashboard import search as search_everything
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SHORTEST = 2


@router.get("/search")
def search(request: Request, session: SessionDep, q: str = "") -> Response:
    """What matches ``q``: a guest's name, email or phone, a booking reference, a property."""
    text = q.strip()[:100]
    found = (
        search_everything(runtime_of(request).uow(), session.caller, text)
        if len(text) >= SHORTEST
        else None
    )
    return render(request, "search.html", session=session, section="search", q=text, found=found)
