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
from doorcode.sources.ical_feeds import SyncReport
from doorcode.sources.ical_parser import Channel
from doorcode.sources.pms_push import PushStatus
from doorcode.sources.webhook_sources import SourceKind
from doorcode.store.models import Feed, PushDelivery, Source, WebhookDelivery

__all__ = [
    "DeliveryAnswer",
    "DeliveryBody",
    "DeliveryDetailBody",
    "FeedBody",
    "FeedInputBody",
    "IssuedSourceBody",
    "PushBody",
    "SourceBody",
    "SourceInputBody",
    "SyncReportBody",
    "delivery_answer",
    "delivery_body",
    "delivery_detail_body",
    "feed_body",
    "push_body",
    "source_body",
    "sync_report_body",
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
    status: PushStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class FeedInputBody(BaseModel):
    """A calendar URL to poll for a property."""

    model_config = ConfigDict(extra="forbid")

    property: str = Field(min_length=1, max_length=200, description="Id, external id or name.")
    url: str = Field(min_length=1, max_length=2000, description="https:// or webcal:// URL.")
    name: str = Field(default="", max_length=200)
    channel: Channel = Channel.AUTO
    include_blocked: bool = Field(
        default=False, description="Give blocked dates codes too (owner stays, say)."
    )
    interval_minutes: int | None = Field(default=None, ge=1, le=1440)

    def __repr__(self) -> str:
        return f"FeedInputBody(property={self.property!r}, url=***)"


class FeedBody(BaseModel):
    """A calendar feed; its URL is masked, since channels put a secret token in it."""

    id: str
    property_id: str
    name: str
    url: str
    channel: Channel
    include_blocked: bool
    interval_minutes: int | None
    next_poll_at: datetime
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_outcome: str | None
    last_message: str
    failures: int


class SyncReportBody(BaseModel):
    """What one sync of a feed did."""

    feed_id: str
    outcome: str
    created: int
    updated: int
    cancelled: int
    missed: int
    skipped: list[str]
    message: str


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
            "grant_id": result.grant_id,
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


def feed_body(feed: Feed) -> FeedBody:
    """A feed for the API, its URL masked."""
    return FeedBody(
        id=feed.id,
        property_id=feed.property_id,
        name=feed.name,
        url=feed.url_hint,
        channel=Channel(feed.channel),
        include_blocked=feed.include_blocked,
        interval_minutes=feed.interval_seconds // 60 if feed.interval_seconds else None,
        next_poll_at=feed.next_poll_at,
        last_attempt_at=feed.last_attempt_at,
        last_success_at=feed.last_success_at,
        last_outcome=feed.last_outcome,
        last_message=feed.last_message,
        failures=feed.failures,
    )


def sync_report_body(report: SyncReport) -> SyncReportBody:
    """A sync report for the API."""
    return SyncReportBody(
        feed_id=report.feed_id,
        outcome=report.outcome.value,
        created=report.created,
        updated=report.updated,
        cancelled=report.cancelled,
        missed=report.missed,
        skipped=list(report.skipped),
        message=report.message,
    )


def push_body(push: PushDelivery) -> PushBody:
    """A push delivery for the API."""
    return PushBody.model_validate(push, from_attributes=True)


def _delivery_fields(delivery: WebhookDelivery) -> dict[str, Any]:
    names = DeliveryBody.model_fields
    return {name: getattr(delivery, name) for name in names}
