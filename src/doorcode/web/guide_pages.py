"""A property's guidebook texts, edited in the dashboard: Wi-Fi, directions, parking, house
rules, check-out steps, and each door's arrival and departure notes (Markdown)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.errors import DomainError
from doorcode.services import properties
from doorcode.services.errors import ServiceError
from doorcode.services.guide_pages import TOPICS, DoorNotes, GuidePages, set_guide_pages
from doorcode.services.guide_pages import guide_pages_of as pages_of
from doorcode.services.web_sessions import ActiveSession
from doorcode.web.csrf import CheckedWriterSessionDep
from doorcode.web.forms import Form, read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import WriterSessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LABELS = {
    "wifi": "Wi-Fi (network and password; shown only while the codes are)",
    "directions": "Getting here",
    "parking": "Parking",
    "house_rules": "House rules",
    "check_out": "Checking out (the steps before leaving)",
}


@router.get("/properties/{property_id}/guidebook")
def edit_guide(request: Request, property_id: str, session: WriterSessionDep) -> Response:
    """The property's guidebook texts, to change."""
    prop = properties.find_property(runtime_of(request).uow(), session.caller, property_id)
    return _form(request, session, property_id, prop.name, pages_of(prop))


@router.post("/properties/{property_id}/guidebook")
async def save_guide(
    request: Request, property_id: str, session: CheckedWriterSessionDep
) -> Response:
    """Save every text at once, or none if one is too long."""
    # Another organisation's property is not found before the form is read, whatever it holds.
    prop = properties.find_property(runtime_of(request).uow(), session.caller, property_id)
    form = await read_form(request)
    pages = _pages(form, [(lock.id, lock.name) for lock in prop.locks])
    try:
        set_guide_pages(runtime_of(request).uow(), session.caller, property_id, pages)
    except (ServiceError, DomainError) as err:
        return _form(request, session, property_id, prop.name, pages, reason_on_form(err), 422)
    return RedirectResponse(f"/properties/{property_id}", status_code=303)


def _pages(form: Form, doors: list[tuple[str, str]]) -> GuidePages:
    return GuidePages(
        {topic: _long(form, topic) for topic in TOPICS},
        tuple(
            DoorNotes(
                lock_id,
                name,
                _long(form, f"arrival_{lock_id}"),
                _long(form, f"departure_{lock_id}"),
            )
            for lock_id, name in doors
        ),
    )


def _long(form: Form, name: str) -> str:
    """A text area's value, unbounded here so the service can say which one is too long."""
    value = form.data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _form(
    request: Request,
    session: ActiveSession,
    property_id: str,
    name: str,
    pages: GuidePages,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "guide_form.html",
        status=status,
        session=session,
        section="properties",
        property_id=property_id,
        property_name=name,
        pages=pages,
        labels=LABELS,
        error=error,
    )
