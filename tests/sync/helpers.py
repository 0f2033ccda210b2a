"""Helpers for lock-sync tests: the runtime's virtual cloud, passes, and what the rows say."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import psycopg
from sqlalchemy import select

from doorcode.locks.base import LockProvider
from doorcode.locks.tags import grant_id_from_tag
from doorcode.services.lock_sync import lock_code_status_of
from doorcode.store.database import libpq_url
from doorcode.store.models import Event, Grant, LockCode
from doorcode.sync.jobs import QUEUE
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler


def cloud_of(runtime):
    provider = runtime.providers.shared("virtual")
    while hasattr(provider, "inner"):
        provider = provider.inner
    return provider.cloud


def reconcile(runtime, lock_ids=None, *, force=False, reconciler=None):
    install_virtual_locks(runtime)
    reconciler = reconciler or Reconciler.from_runtime(runtime)
    ids = list(lock_ids) if lock_ids is not None else reconciler.every_lock()
    return asyncio.run(reconciler.reconcile(ids, force=force))


def grants_on(runtime, lock):
    """Grant ids tagged on the lock's device, one entry per code (duplicates show)."""
    return sorted(
        grant_id_from_tag(code.name) for code in cloud_of(runtime).codes_on(lock.external_id)
    )


def statuses(runtime, grant_id):
    """lock id -> status of the grant's code there."""
    with runtime.uow() as uow:
        grant = uow.session.get(Grant, grant_id)
        rows = uow.session.scalars(select(LockCode).where(LockCode.grant_id == grant_id))
        return {row.lock_id: lock_code_status_of(row, grant.version).value for row in rows}


def row_of(runtime, grant_id, lock_id):
    with runtime.uow() as uow:
        return uow.session.get(LockCode, (grant_id, lock_id))


def event_kinds(runtime, subject_id=None):
    with runtime.uow() as uow:
        query = select(Event.kind)
        if subject_id is not None:
            query = query.where(Event.subject_id == subject_id)
        return Counter(uow.session.scalars(query))


class CountingProvider(LockProvider):
    """A provider that forwards to another and counts the calls, and overlapping calls per lock."""

    def __init__(self, inner, *, name="virtual"):
        self.inner = inner
        self.kind = name
        self.abilities = inner.abilities
        self.rate_limits = inner.rate_limits
        self.calls = Counter()
        self.in_flight = Counter()
        self.most_at_once = Counter()
        self.most_in_flight_overall = 0

    async def _call(self, operation, device_id, *args):
        self.calls[operation] += 1
        self.in_flight[device_id] += 1
        self.most_at_once[device_id] = max(self.most_at_once[device_id], self.in_flight[device_id])
        self.most_in_flight_overall = max(self.most_in_flight_overall, sum(self.in_flight.values()))
        try:
            await asyncio.sleep(0)
            return await getattr(self.inner, operation)(device_id, *args)
        finally:
            self.in_flight[device_id] -= 1

    async def list_devices(self):
        return await self.inner.list_devices()

    async def list_codes(self, device_id):
        return await self._call("list_codes", device_id)

    async def create_code(self, device_id, code):
        return await self._call("create_code", device_id, code)

    async def update_code(self, device_id, code_id, window):
        return await self._call("update_code", device_id, code_id, window)

    async def delete_code(self, device_id, code_id):
        return await self._call("delete_code", device_id, code_id)


async def drain(apps, url, queues=(QUEUE,), *, within=30.0):
    """Run the workers until no job is ready (a worker with wait=False stops as soon as none
    it may take is ready, and a lock's later jobs are not while its first one runs).

    Bounded: jobs that keep making ready jobs (a wake-up scheduled in the database's past,
    say) fail the test within ``within`` seconds, naming what was still ready.
    """
    deadline = time.monotonic() + within
    while ready_jobs(url):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the queue did not drain within {within:.0f} s; still ready: {job_statuses(url)}"
            )
        await work_once(apps, queues)


def ready_jobs(url):
    with psycopg.connect(libpq_url(url)) as connection:
        return connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
            " AND (scheduled_at IS NULL OR scheduled_at <= now())"
        ).fetchone()[0]


async def work_once(apps, queues=(QUEUE,)):
    await asyncio.gather(
        *(
            app.run_worker_async(
                queues=list(queues),
                concurrency=4,
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
                fetch_job_polling_interval=0.05,
                name=f"worker-{n}",
            )
            for n, app in enumerate(apps)
        )
    )


def job_statuses(url):
    with psycopg.connect(libpq_url(url)) as connection:
        rows = connection.execute(
            "SELECT task_name, status, count(*) FROM procrastinate_jobs GROUP BY 1, 2"
        ).fetchall()
    return {(task, status): count for task, status, count in rows}
