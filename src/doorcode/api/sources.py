"""/sources, /deliveries and /pushes: webhook sources, what they sent, what doorcode sent back."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.source_bodies import (
    DeliveryAnswer,
    DeliveryBody,
    DeliveryDetailBody,
    IssuedSourceBody,
    PushBody,
    SourceBody,
    SourceInputBody,
    delivery_answer,
    delivery_body,
    delivery_detail_body,
    push_body,
    source_body,
)
from doorcode.sources import deliveries, pms_push, webhook_sources
from doorcode.sources.pms_push import PushStatus
from doorcode.sources.webhook_sources import SourceKind, SourceSettings
from doorcode.store.source_repositories import DeliveryFilter, PushFilter

router = APIRouter(tags=["sources"])


@router.get("/sources")
def list_sources(runtime: RuntimeDep, caller: CallerDep) -> list[SourceBody]:
    """Webhook sources, by name."""
    return [source_body(s) for s in webhook_sources.list_sources(runtime.uow(), caller)]


@router.post("/sources", status_code=status.HTTP_201_CREATED)
def add_source(body: SourceInputBody, runtime: RuntimeDep, caller: CallerDep) -> IssuedSourceBody:
    """Add a source (owners only); its secrets are in this answer and nowhere else."""
    settings = SourceSettings(body.name, body.kind, body.push_url, body.signing_secret)
    issued = webhook_sources.add_source(runtime.uow(), caller, settings)
    shown = source_body(issued.source).model_dump()
    hostaway = issued.source.kind == SourceKind.HOSTAWAY
    return IssuedSourceBody(
        **shown,
        secret=issued.secret,
        basic_auth_login=issued.source.id if hostaway else None,
        push_secret=issued.push_secret,
    )


@router.get("/sources/{reference}")
def get_source(reference: str, runtime: RuntimeDep, caller: CallerDep) -> SourceBody:
    """One source, by id or name."""
    return source_body(webhook_sources.find_source(runtime.uow(), caller, reference))


@router.get("/deliveries")
def list_deliveries(
    runtime: RuntimeDep,
    caller: CallerDep,
    source_id: str | None = None,
    outcome: Literal["accepted", "unchanged", "stale", "ignored", "rejected"] | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[DeliveryBody]:
    """Webhook deliveries, newest first."""
    which = DeliveryFilter(source_id, outcome, limit, offset)
    found = deliveries.list_deliveries(runtime.uow(), caller, which)
    return [delivery_body(delivery) for delivery in found]


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: str, runtime: RuntimeDep, caller: CallerDep) -> DeliveryDetailBody:
    """One delivery with what arrived (secrets redacted)."""
    return delivery_detail_body(deliveries.get_delivery(runtime.uow(), caller, delivery_id))


@router.post("/deliveries/{delivery_id}/replay")
def replay_delivery(delivery_id: str, runtime: RuntimeDep, caller: CallerDep) -> DeliveryAnswer:
    """Process a stored delivery again, as a new delivery; ordering still applies."""
    result = deliveries.replay_delivery(runtime.uow(), caller, delivery_id)
    return delivery_answer(result)


@router.get("/pushes")
def list_pushes(
    runtime: RuntimeDep,
    caller: CallerDep,
    source_id: str | None = None,
    status_is: Annotated[PushStatus | None, Query(alias="status")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[PushBody]:
    """Codes sent (or waiting to be sent) back to PMSs, newest first."""
    which = PushFilter(source_id, status_is, limit, offset)
    return [push_body(push) for push in pms_push.list_pushes(runtime.uow(), caller, which)]
