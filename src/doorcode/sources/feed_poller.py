"""Polling the feeds that are due: once for a worker's periodic task, or forever in ``serve``.

``poll_due_feeds`` is the unit of work a scheduler calls (the embedded loop below, or a
Procrastinate periodic task on PostgreSQL). Each feed is claimed before it is fetched, so
several workers can run it side by side. Syncs run in threads, ``DOORCODE_FEED_CONCURRENCY``
at once: the services are synchronous, a slow calendar must not stall the API's event loop,
and one slow feed must not delay the others.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial

import httpx

from doorcode.runtime import Runtime
from doorcode.sources.ical_feeds import FeedPolicy, feed_caller, feed_client, sync_feed

__all__ = ["BATCH", "TICK", "feed_policy", "poll_due_feeds", "run_feed_poller"]

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=30)
BATCH = 50


def feed_policy(runtime: Runtime) -> FeedPolicy:
    """The deployment's feed settings."""
    settings = runtime.settings
    return FeedPolicy(
        interval=timedelta(seconds=settings.feed_interval),
        horizon=timedelta(days=settings.feed_horizon_days),
    )


async def poll_due_feeds(
    runtime: Runtime, now: datetime | None = None, client: httpx.Client | None = None
) -> int:
    """Sync every feed due at ``now`` (default: the runtime's clock); returns how many."""
    with runtime.uow() as uow:
        due = uow.feeds.due(now or runtime.clock(), BATCH)
    if not due:
        return 0
    policy = feed_policy(runtime)
    owned = client is None
    client = client or feed_client(allow_private=runtime.settings.feed_allow_private)
    gate = asyncio.Semaphore(runtime.settings.feed_concurrency)

    async def poll(organisation_id: str, feed_id: str) -> None:
        caller = feed_caller(organisation_id, feed_id)
        async with gate:
            try:
                await asyncio.to_thread(
                    partial(sync_feed, due_only=True),
                    runtime.uow(),
                    caller,
                    client,
                    feed_id,
                    policy,
                )
            except Exception:  # one feed's bug must not stop the others
                logger.exception("syncing feed %s failed", feed_id)

    try:
        await asyncio.gather(*(poll(organisation_id, feed_id) for organisation_id, feed_id in due))
    finally:
        if owned:
            client.close()
    return len(due)


async def run_feed_poller(runtime: Runtime) -> None:
    """Poll due feeds every ``TICK`` until cancelled; one failing poll never stops the loop."""
    while True:
        try:
            await poll_due_feeds(runtime)
        except Exception:  # the loop must outlive any one bad feed
            logger.exception("polling calendar feeds failed; trying again in %s", TICK)
        await asyncio.sleep(TICK.total_seconds())
