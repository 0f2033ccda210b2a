"""A worker killed mid-pass must not freeze its lock: the job it held goes back to the queue.

Procrastinate leaves a job "doing" when its worker dies, with the job lock ``lock:<id>``
still taken, so every later pass of that lock waits behind it for ever: the rows of a moved
window read "setting", 0 attempts, no error. ``recover_stalled`` puts such jobs back.
"""

import asyncio
from datetime import timedelta

import psycopg
import pytest

from doorcode.store.database import libpq_url
from doorcode.sync.jobs import (
    QUEUE,
    RECONCILE,
    build_job_app,
    defer_reconcile,
    ensure_schema,
    retry_stalled_jobs,
)
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.sync.helpers import grants_on, statuses, work_once

pytestmark = pytest.mark.postgres


@pytest.fixture
def clock(database_clock):
    """Procrastinate schedules by PostgreSQL's clock: the test's clock starts from it."""
    return database_clock


def jobs_of_lock(url, lock_id):
    with psycopg.connect(libpq_url(url)) as connection:
        rows = connection.execute(
            "SELECT status FROM procrastinate_jobs WHERE lock = %s ORDER BY id",
            (f"lock:{lock_id}",),
        ).fetchall()
    return [status for (status,) in rows]


def kill_the_worker(url, worker_id):
    """What SIGKILL leaves: a worker row whose heartbeat stopped long ago."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
            " WHERE id = %s",
            (worker_id,),
        )


def test_a_pass_held_by_a_killed_worker_is_run_again_and_the_lock_converges(
    pg_runtime, postgres_url, clock
):
    owner = make_owner(pg_runtime)
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC")
    today = clock.now.date()
    grant = book(pg_runtime, owner, flat, "B1", today, today + timedelta(days=2)).grant
    install_virtual_locks(pg_runtime)
    lock = flat.locks[0]
    app = build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime))

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await defer_reconcile(app, [lock.id])
            worker_id = await app.job_manager.register_worker()
            taken = await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker_id)
            assert taken is not None
            assert taken.task_name == RECONCILE  # and then the worker is killed
            kill_the_worker(postgres_url, worker_id)
            await defer_reconcile(app, [lock.id])  # the next nudge queues behind it
            await asyncio.wait_for(work_once([app]), 20)
            assert grants_on(pg_runtime, lock) == []  # frozen: the job lock is still held
            assert jobs_of_lock(postgres_url, lock.id) == ["doing", "todo"]

            assert await retry_stalled_jobs(app) == 1
            assert await retry_stalled_jobs(app) == 0  # once
            for _ in range(3):
                await asyncio.wait_for(work_once([app]), 20)

    asyncio.run(scenario())
    assert grants_on(pg_runtime, lock) == [grant.id]
    assert set(statuses(pg_runtime, grant.id).values()) == {"set"}
    assert "doing" not in jobs_of_lock(postgres_url, lock.id)


def test_a_live_worker_keeps_its_job(pg_runtime, postgres_url):
    owner = make_owner(pg_runtime)
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC")
    install_virtual_locks(pg_runtime)
    app = build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime))

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await defer_reconcile(app, [flat.locks[0].id])
            worker_id = await app.job_manager.register_worker()
            assert await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker_id)
            assert await retry_stalled_jobs(app) == 0

    asyncio.run(scenario())
    assert jobs_of_lock(postgres_url, flat.locks[0].id) == ["doing"]
