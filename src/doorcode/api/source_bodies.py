"""Bodies for reservation sources (webhook sources, deliveries, feeds, pushes), and rendering.

Kept apart from ``schemas`` and ``rendering`` because they are one family that grows with the
sources, and they never show a secret: sources show their URL path and a masked push URL,
feeds a masked calendar URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from doorcode.sources.deliveries import DeliveryResult
from doorcode.sources.webhook_sources import SourceKind
from doorcode.store.models import PushDelivery, Source, WebhookDelivery

__all__ = [
    "DeliveryAnswer",
    "DeliveryBody",
    "DeliveryDetailBody",
    "IssuedSourceBody",
    "PushBody",
    "SourceBody",
    "SourceInputBody",
    "delivery_answer",
    "delivery_body",
    "delivery_detail_body",
    "push_body",
    "source_body",
    "webhook_path",
]

Outcome = Literal["accepted", "unchanged", "stale", "ignored", "rejected"]


class SourceInputBody(BaseModel):
    """A webhook source to add."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, examples=["hostaway"])
    kind: SourceKind = SourceKind.GENERIC
    push_url: str | None = Field(
        default=None, max_length=2000, description="Where to POST each guest's code back."
    )
    signing_secret: str | None = Field(
        default=None, max_length=500, description="Guesty only: its whsec_... secret."
    )

    def __repr__(self) -> str:
        return f"SourceInputBody(name={self.name!r}, kind={self.kind.value!r}, secrets=***)"


class SourceBody(BaseModel):
    """A webhook source; its secrets are never shown after it was added."""

    id: str
    name: str
    kind: SourceKind
    webhook_path: str
    push_url: str | None = Field(description="Masked: the query and most of the path hidden.")
    created_at: datetime


class IssuedSourceBody(SourceBody):
    """A new source with its secrets, shown this once."""

    secret: str = Field(description="Signs generic deliveries; Hostaway's basic-auth password.")
    basic_auth_login: str | None = Field(description="Hostaway only: the basic-auth login.")
    push_secret: str | None = Field(description="Verifies the pushes doorcode sends.")

    def __repr__(self) -> str:
        return f"IssuedSourceBody(id={self.id!r}, secrets=***)"


class DeliveryAnswer(BaseModel):
    """What became of a webhook delivery that was not refused."""

    delivery_id: str
    outcome: Outcome
    reservation_id: str | None
    grant_id: str | None
    change: Literal["created", "updated", "unchanged"] | None


class DeliveryBody(BaseModel):
    """A stored webhook delivery."""

    id: str
    source_id: str
    received_at: datetime
    outcome: Outcome
    reason: str
    message: str
    authenticated: bool
    delivery_key: str | None
    signed_at: datetime | None
    external_id: str | None
    source_version: int | None
    reservation_id: str | None
    replay_of: str | None
    body_size: int


class DeliveryDetailBody(DeliveryBody):
    """A stored delivery with what arrived: headers and body, secrets redacted."""

    headers: dict[str, Any]
    body: str


class PushBody(BaseModel):
    """One grant change sent (or to send) back to a PMS; the code itself is never kept."""

    id: str
    source_id: str
    event_id: int
    event_kind: str
    grant_id: str
    reservation_id: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


def webhook_path(source: Source) -> str:
    """Where the source posts its reservations."""
    return f"/webhooks/reservations/{source.id}"


def source_body(source: Source) -> SourceBody:
    """A source for the API."""
    return SourceBody(
        id=source.id,
        name=source.name,
        kind=SourceKind(source.kind),
        webhook_path=webhook_path(source),
        push_url=source.push_url_hint,
        created_at=source.created_at,
    )


def delivery_answer(result: DeliveryResult) -> DeliveryAnswer:
    """The answer to a webhook (or a replay) that was not refused."""
    return DeliveryAnswer.model_validate(
        {
            "delivery_id": result.delivery.id,
            "outcome": result.delivery.outcome,
            "reservation_id": result.delivery.reservation_id,
            "grant_id": result.grant.id if result.grant is not None else None,
            "change": result.change.value if result.change is not None else None,
        }
    )


def delivery_body(delivery: WebhookDelivery) -> DeliveryBody:
    """A delivery for listings."""
    return DeliveryBody.model_validate(_delivery_fields(delivery))


def delivery_detail_body(delivery: WebhookDelivery) -> DeliveryDetailBody:
    """A delivery with its redacted headers and body."""
    return DeliveryDetailBody.model_validate(
        {
            **_delivery_fields(delivery),
            "headers": delivery.headers,
            "body": delivery.body.decode("utf-8", errors="replace"),
        }
    )


def push_body(push: PushDelivery) -> PushBody:
    """A push delivery for the API."""
    return PushBody.model_validate(push, from_attributes=True)


def _delivery_fields(delivery: WebhookDelivery) -> dict[str, Any]:
    names = DeliveryBody.model_fields
    return {name: getattr(delivery, name) for name in names}
