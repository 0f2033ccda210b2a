"""/events: the audit log."""

from __future__ import annotations

from fastapi import APIRouter

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.rendering import event_body
from doorcode.api.schemas import EventBody, Instant
from doorcode.services.events import list_events
from doorcode.store.repositories import EventFilter

router = APIRouter(prefix="/events", tags=["events"])


@router.get("")
def events(
    runtime: RuntimeDep,
    caller: CallerDep,
    subject_type: str | None = None,
    subject_id: str | None = None,
    kind: str | None = None,
    since: Instant | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[EventBody]:
    """Audit events, newest first."""
    which = EventFilter(subject_type, subject_id, kind, since, limit, offset)
    return [event_body(event) for event in list_events(runtime.uow(), caller, which)]
