"""/feeds: calendar (iCal) URLs polled for a property's bookings."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.source_bodies import (
    FeedBody,
    FeedInputBody,
    SyncReportBody,
    feed_body,
    sync_report_body,
)
from doorcode.sources import ical_feeds
from doorcode.sources.feed_poller import feed_policy
from doorcode.sources.ical_feeds import FeedSettings

router = APIRouter(prefix="/feeds", tags=["feeds"])


@router.get("")
def list_feeds(
    runtime: RuntimeDep, caller: CallerDep, property: str | None = None
) -> list[FeedBody]:
    """Feeds, by name; URLs are masked."""
    return [feed_body(feed) for feed in ical_feeds.list_feeds(runtime.uow(), caller, property)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_feed(body: FeedInputBody, runtime: RuntimeDep, caller: CallerDep) -> FeedBody:
    """Add a calendar URL to a property; it is polled at once and then every interval."""
    settings = FeedSettings(
        property_ref=body.property,
        url=body.url,
        name=body.name,
        channel=body.channel,
        include_blocked=body.include_blocked,
        interval_minutes=body.interval_minutes,
    )
    return feed_body(ical_feeds.add_feed(runtime.uow(), caller, settings))


@router.post("/{feed_id}/sync")
def sync_feed(feed_id: str, runtime: RuntimeDep, caller: CallerDep) -> SyncReportBody:
    """Poll the feed now and record what changed."""
    with ical_feeds.feed_client(allow_private=runtime.settings.feed_allow_private) as client:
        report = ical_feeds.sync_feed(runtime.uow(), caller, client, feed_id, feed_policy(runtime))
    return sync_report_body(report)
