"""/locks/{ref}/events and /reservations/{id}/events: who opened which door, when."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit
from doorcode.api.schemas import Instant
from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.services.access_events import lock_access_events, reservation_access_events
from doorcode.services.lock_health import health_history
from doorcode.store.access_repository import AccessEventFilter
from doorcode.store.models import AccessEventRow

__all__ = ["AccessEventBody", "access_event_body", "router"]

router = APIRouter(tags=["access events"])

Since = Annotated[Instant | None, Query(description="From this instant (with offset).")]
Until = Annotated[Instant | None, Query(description="Before this instant (with offset).")]


class AccessEventBody(BaseModel):
    """One opening or refused attempt at a lock; never the code, only whose it was."""

    event_id: str
    lock_id: str
    lock_name: str
    occurred_at: AwareDatetime
    outcome: AccessOutcome
    reason: RefusalReason | None
    method: AccessMethod
    grant_id: str | None
    holder: str | None
    reservation_id: str | None
    via: str


@router.get("/locks/{reference}/events")
def lock_events(
    reference: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    outcome: AccessOutcome | None = None,
    since: Since = None,
    until: Until = None,
    limit: PageLimit = 100,
) -> list[AccessEventBody]:
    """The lock's access events, newest first."""
    which = AccessEventFilter(None, None, outcome, since, until, limit)
    _, rows = lock_access_events(runtime.uow(), caller, reference, which)
    return [access_event_body(row) for row in rows]


@router.get("/reservations/{reservation_id}/events")
def reservation_events(
    reservation_id: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    outcome: AccessOutcome | None = None,
    since: Since = None,
    until: Until = None,
    limit: PageLimit = 100,
) -> list[AccessEventBody]:
    """Openings and refusals with the stay's codes (guest code, released backup), newest first."""
    which = AccessEventFilter(None, None, outcome, since, until, limit)
    rows = reservation_access_events(runtime.uow(), caller, reservation_id, which)
    return [access_event_body(row) for row in rows]


class HealthReadingBody(BaseModel):
    """One reading of a lock's health; None where its back-end does not say."""

    observed_at: AwareDatetime
    online: bool | None
    battery_percent: int | None
    last_contact_at: AwareDatetime | None


@router.get("/locks/{reference}/health")
def lock_health(
    reference: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    days: Annotated[int, Query(ge=1, le=400, description="How far back.")] = 42,
) -> list[HealthReadingBody]:
    """The lock's health readings over the last ``days``, oldest first (the last is now's)."""
    since = runtime.clock() - timedelta(days=days)
    _, readings = health_history(runtime.uow(), caller, reference, since)
    return [
        HealthReadingBody(
            observed_at=reading.observed_at,
            online=reading.online,
            battery_percent=reading.battery_percent,
            last_contact_at=reading.last_contact_at,
        )
        for reading in readings
    ]


def access_event_body(row: AccessEventRow) -> AccessEventBody:
    """An access event for the API (and the CLI's ``--json``)."""
    grant = row.grant
    return AccessEventBody(
        event_id=row.event_id,
        lock_id=row.lock_id,
        lock_name=row.lock.name,
        occurred_at=row.occurred_at,
        outcome=AccessOutcome(row.outcome),
        reason=RefusalReason(row.reason) if row.reason else None,
        method=AccessMethod(row.method),
        grant_id=row.grant_id,
        holder=(grant.holder or grant.kind) if grant is not None else None,
        reservation_id=grant.reservation_id if grant is not None else None,
        via=row.via,
    )
