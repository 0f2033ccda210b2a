"""``doorcode worker``: all background work as Procrastinate jobs on PostgreSQL.

The composition root of the production runner, as ``background.py`` is of the embedded one.
Lock sync brings its own tasks (``sync/jobs.py``: one lock per job, under a per-lock job lock).
Here the other loops of ``doorcode serve`` join it as periodic jobs. Each runs under a job lock,
so that with any number of workers no two run the same loop at once:

    doorcode.feeds      every minute    poll the calendar feeds that are due
    doorcode.pushes     every 15 s      push codes back to PMSs, retrying what is due
    doorcode.messages   every 15 s      plan guest messages from new events, send what is due,
                                        and send what guests told their host (guidebook)
    doorcode.access     every minute    read each lock's access events and health, send
                                        no-show notices, purge what is past retention
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from procrastinate import App

from doorcode.notify.host_notices import send_due_host_notices
from doorcode.notify.loop import dispatch_due_messages, process_message_outbox
from doorcode.runtime import Runtime
from doorcode.sources.feed_poller import poll_due_feeds
from doorcode.sources.push_sender import push_codes
from doorcode.sync.access_poller import poll_access
from doorcode.sync.jobs import QUEUE as LOCK_QUEUE
from doorcode.sync.jobs import build_job_app, ensure_schema
from doorcode.sync.reconciler import Reconciler

__all__ = ["BACKGROUND_QUEUE", "PERIODIC_TASKS", "build_worker_app", "run_worker"]

logger = logging.getLogger(__name__)

BACKGROUND_QUEUE = "doorcode-background"
PERIODIC_TASKS = ("doorcode.feeds", "doorcode.pushes", "doorcode.messages", "doorcode.access")


def build_worker_app(runtime: Runtime) -> App:
    """Lock sync's tasks and the periodic feed, push and message jobs, on one app."""
    app = build_job_app(
        runtime.settings.resolved_database_url(),
        Reconciler.from_runtime(runtime),
        sweep_interval=timedelta(seconds=runtime.settings.sweep_interval),
    )

    async def feeds(timestamp: int) -> None:
        polled = await poll_due_feeds(runtime)
        logger.debug("polled %d feed(s)", polled)

    async def pushes(timestamp: int) -> None:
        await push_codes(runtime)

    async def messages(timestamp: int) -> None:
        await process_message_outbox(runtime)
        await dispatch_due_messages(runtime)
        await send_due_host_notices(runtime)

    async def access(timestamp: int) -> None:
        done = await poll_access(runtime)
        logger.debug("read %d lock(s): %d new access event(s)", done.locks, done.stored)

    for name, cron, job in (
        ("doorcode.feeds", "* * * * *", feeds),
        ("doorcode.pushes", "* * * * * */15", pushes),
        ("doorcode.messages", "* * * * * */15", messages),
        ("doorcode.access", "* * * * *", access),
    ):
        task = app.task(name=name, queue=BACKGROUND_QUEUE, lock=name)(job)
        app.periodic(cron=cron, periodic_id=name)(task)
    return app


def run_worker(runtime: Runtime, *, concurrency: int, name: str | None = None) -> None:
    """Run a worker on both queues until SIGINT or SIGTERM."""
    app = build_worker_app(runtime)

    async def work() -> None:
        async with app.open_async():
            await ensure_schema(app)
            await app.run_worker_async(
                queues=[LOCK_QUEUE, BACKGROUND_QUEUE],
                concurrency=concurrency,
                name=name or "doorcode-worker",
                delete_jobs="successful",
            )

    asyncio.run(work())
