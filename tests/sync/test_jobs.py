"""``doorcode worker`` on the real PostgreSQL: Procrastinate jobs run the same reconcile.

Two workers (each with its own connection pool, several jobs at a time) drain a queue holding
many passes for each of a few locks, through a provider that slows every call down and records
how many calls are in flight per lock. The job lock keeps that at one.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import psycopg
import pytest
from croniter import croniter

from doorcode.locks.registry import ProviderRegistry
from doorcode.store.database import libpq_url
from doorcode.sync.jobs import (
    CATCH_UP,
    LOCK_INDEX,
    QUEUE,
    RECONCILE,
    SWEEP,
    WAKE,
    build_job_app,
    defer_reconcile,
    defer_sweep,
    enqueue_after_commit,
    ensure_schema,
    sweep_cron,
)
from doorcode.sync.outcomes import LockOutcome
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.conftest import database_now
from tests.sync.helpers import CountingProvider, drain, grants_on, job_statuses

pytestmark = pytest.mark.postgres


@pytest.fixture
def clock(database_clock):
    """Procrastinate schedules by PostgreSQL's clock: the test's clock starts from it."""
    return database_clock


@pytest.fixture
def today(clock):
    return clock.now.date()


class SlowProvider(CountingProvider):
    """Each call takes 0.05 s; until calls have met as ``met`` asks, each also waits (at most
    5 s) for another to come: passes that may run side by side then do, however busy the
    machine, and ones that may not (a job lock) cannot be made to."""

    def __init__(self, inner, met=lambda provider: provider.most_in_flight_overall > 1):
        super().__init__(inner)
        self.met = met

    async def _call(self, operation, device_id, *args):
        self.calls[operation] += 1
        self.in_flight[device_id] += 1
        self.most_at_once[device_id] = max(self.most_at_once[device_id], self.in_flight[device_id])
        self.most_in_flight_overall = max(self.most_in_flight_overall, sum(self.in_flight.values()))
        try:
            await asyncio.sleep(0.05)
            waited_until = time.monotonic() + 5
            while not self.met(self) and time.monotonic() < waited_until:
                await asyncio.sleep(0.01)
            return await getattr(self.inner, operation)(device_id, *args)
        finally:
            self.in_flight[device_id] -= 1


def world(runtime, today, flats=4):
    owner = make_owner(runtime)
    props = [make_property(runtime, owner, f"Flat {n}", time_zone="UTC") for n in range(flats)]
    for prop in props:
        for n in range(3):
            book(
                runtime,
                owner,
                prop,
                f"{prop.id}-{n}",
                today + timedelta(days=n),
                today + timedelta(days=n + 1),
            )
    install_virtual_locks(runtime)
    return props


def test_two_workers_never_work_on_the_same_lock_at_once(pg_runtime, postgres_url, today):
    props = world(pg_runtime, today)
    slow = SlowProvider(pg_runtime.providers.shared("virtual"))
    pg_runtime.providers = ProviderRegistry([slow])
    apps = [build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime)) for _ in range(2)]
    lock_ids = [prop.locks[0].id for prop in props]

    async def scenario():
        async with apps[0].open_async(), apps[1].open_async():
            await ensure_schema(apps[0])
            await ensure_schema(apps[1])
            for _ in range(5):  # many passes per lock, all ready at once
                for lock_id in lock_ids:
                    deferrer = apps[0].configure_task(
                        RECONCILE, queue=QUEUE, lock=f"lock:{lock_id}"
                    )
                    await deferrer.defer_async(lock_id=lock_id)
            await drain(apps, postgres_url)

    asyncio.run(scenario())
    assert set(slow.most_at_once.values()) == {1}
    assert slow.most_in_flight_overall > 1  # the workers did run side by side
    assert job_statuses(postgres_url)[(RECONCILE, "succeeded")] == 5 * len(lock_ids)
    for prop in props:
        assert len(grants_on(pg_runtime, prop.locks[0])) == 3


def test_without_the_job_lock_the_instrument_sees_overlaps(pg_runtime, postgres_url, today):
    props = world(pg_runtime, today, flats=1)
    lock = props[0].locks[0].external_id
    slow = SlowProvider(pg_runtime.providers.shared("virtual"), lambda p: p.most_at_once[lock] > 1)
    pg_runtime.providers = ProviderRegistry([slow])
    apps = [build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime)) for _ in range(2)]

    async def scenario():
        async with apps[0].open_async(), apps[1].open_async():
            await ensure_schema(apps[0])
            for _ in range(8):
                deferrer = apps[0].configure_task(RECONCILE, queue=QUEUE)
                await deferrer.defer_async(lock_id=props[0].locks[0].id)
            await drain(apps, postgres_url)

    asyncio.run(scenario())
    assert max(slow.most_at_once.values()) > 1


def test_a_pass_schedules_the_next_one_at_the_locks_next_change(pg_runtime, postgres_url, today):
    props = world(pg_runtime, today, flats=1)
    app = build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime))
    lock_id = props[0].locks[0].id

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await defer_reconcile(app, [lock_id])
            await defer_reconcile(app, [lock_id])  # a second nudge while one waits: no new job
            await drain([app], postgres_url)

    asyncio.run(scenario())
    statuses = job_statuses(postgres_url)
    assert statuses[(RECONCILE, "succeeded")] == 1
    assert statuses[("doorcode.wake_lock", "todo")] == 1
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        [scheduled] = connection.execute(
            "SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = 'doorcode.wake_lock'"
        ).fetchone()
    with pg_runtime.uow() as uow:
        assert scheduled == uow.lock_sync.next_due()


def test_serve_enqueues_a_pass_for_each_lock_a_commit_touched(pg_runtime, postgres_url, today):
    app = build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime))

    async def schema():
        async with app.open_async():
            await ensure_schema(app)

    asyncio.run(schema())
    enqueue = enqueue_after_commit(pg_runtime)
    pg_runtime.commit_hooks.append(enqueue)
    ids_before = job_ids_taken(postgres_url)
    owner = make_owner(pg_runtime)
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC")
    book(pg_runtime, owner, flat, "B1", today, today + timedelta(days=1))
    book(pg_runtime, owner, flat, "B2", today + timedelta(days=3), today + timedelta(days=4))
    enqueue.close()
    assert job_statuses(postgres_url) == {(RECONCILE, "todo"): 1}  # one waiting job per lock
    # The second booking's pass was not even tried: a refused insert is an ERROR with its
    # statement in PostgreSQL's log (and takes an id from the sequence, which shows it here).
    assert job_ids_taken(postgres_url) - ids_before == 1


def job_ids_taken(postgres_url):
    """How many job inserts were ever tried in this database, refused ones included (a
    sequence never rolls back; tests share the database, so compare before and after)."""
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        row = connection.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM procrastinate_jobs_id_seq"
        ).fetchone()
    return row[0]


def test_the_periodic_sweep_and_catch_up_enqueue_from_the_database(pg_runtime, postgres_url, today):
    props = world(pg_runtime, today, flats=3)
    app = build_job_app(
        postgres_url, Reconciler.from_runtime(pg_runtime), sweep_interval=timedelta(minutes=5)
    )

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await app.tasks[CATCH_UP](timestamp=0)  # every lock has a pending change
            await app.tasks[SWEEP](timestamp=0)  # already waiting: nothing doubles

    asyncio.run(scenario())
    assert job_statuses(postgres_url) == {(RECONCILE, "todo"): len(props)}


class ScriptedReconciler:
    """Stands in for the reconciler: counts passes and reports a fixed next change instant,
    or, given a timedelta, the instant that long after its first pass."""

    def __init__(self, clock, next_change):
        self.clock = clock
        self.next_change = next_change
        self.passes = 0

    def now(self):
        return self.clock()

    async def reconcile(self, lock_ids, **_):
        self.passes += 1
        if isinstance(self.next_change, timedelta):  # counted from the pass, not the set-up
            self.next_change = self.clock() + self.next_change
        return [LockOutcome(lock_id, "Door", next_sync_at=self.next_change) for lock_id in lock_ids]


def run_one_pass(app, postgres_url):
    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await defer_reconcile(app, ["lock-1"])
            await drain([app], postgres_url, within=15)

    asyncio.run(scenario())


def test_a_next_change_already_past_is_not_scheduled_again(pg_runtime, postgres_url, clock):
    """A pass whose next instant is not in its future handled it: no wake-up that is ready at
    once (by PostgreSQL's clock) to compute the same instant again, forever."""
    scripted = ScriptedReconciler(clock, clock.now - timedelta(minutes=5))
    run_one_pass(build_job_app(postgres_url, scripted), postgres_url)
    assert scripted.passes == 1
    assert (WAKE, "todo") not in job_statuses(postgres_url)


def test_a_database_clock_ahead_of_the_workers_costs_one_wait_not_a_spin(pg_runtime, postgres_url):
    """PostgreSQL runs 2 s ahead of the worker: the wake-up is ready by its clock while the
    worker still sees the instant ahead; it waits for its own clock instead of re-running."""
    started, began = database_now(postgres_url) - timedelta(seconds=2), time.monotonic()
    behind = lambda: started + timedelta(seconds=time.monotonic() - began)  # noqa: E731
    # A second after the first pass: counted from the set-up, a worker slow to start (a
    # loaded CI) found it already past, scheduled no wake-up and ran one pass, not two.
    scripted = ScriptedReconciler(behind, timedelta(seconds=1))
    run_one_pass(build_job_app(postgres_url, scripted), postgres_url)
    assert scripted.passes == 2  # the first, then the one the wake-up asked for
    assert job_statuses(postgres_url)[(WAKE, "succeeded")] == 1


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (300, "*/5 * * * *"),
        (60, "*/1 * * * *"),
        (30, "* * * * * */30"),
        (45, "* * * * * */30"),
        (90, "*/1 * * * *"),
        (45 * 60, "*/30 * * * *"),
        (3600, "0 */1 * * *"),
        (7200, "0 */2 * * *"),
        (5 * 3600, "0 */4 * * *"),
        (24 * 3600, "0 0 * * *"),
        (3 * 24 * 3600, "0 0 * * *"),
    ],
)
def test_the_sweep_interval_becomes_an_even_cron_line_never_sparser_than_asked(seconds, cron):
    assert sweep_cron(timedelta(seconds=seconds)) == cron


@pytest.mark.parametrize("seconds", [10, 45, 90, 45 * 60, 5 * 3600, 3 * 24 * 3600])
def test_sweeps_come_at_even_gaps_no_longer_than_the_interval(seconds):
    line = sweep_cron(timedelta(seconds=seconds))
    fires = croniter(line, datetime(2026, 11, 23, tzinfo=UTC))
    times = [fires.get_next(datetime) for _ in range(50)]
    gaps = {later - earlier for earlier, later in pairwise(times)}
    assert len(gaps) == 1
    assert gaps.pop() <= timedelta(seconds=seconds)


def test_workers_starting_together_leave_the_queue_its_lock_index_once(pg_runtime, postgres_url):
    """Without it, a sweep's thousands of waiting jobs made every fetch scan them all."""
    apps = [build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime)) for _ in range(3)]
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
        connection.execute(f"DROP INDEX IF EXISTS {LOCK_INDEX}")

    async def scenario():
        async with apps[0].open_async(), apps[1].open_async(), apps[2].open_async():
            await asyncio.gather(*(ensure_schema(app) for app in apps))

    asyncio.run(scenario())
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        found = connection.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (LOCK_INDEX,)
        ).fetchall()
    assert len(found) == 1
    assert "(lock, id)" in found[0][0]


def test_a_worker_starts_while_others_are_writing_jobs(pg_runtime, postgres_url):
    """Even ``CREATE INDEX IF NOT EXISTS`` waits for a SHARE lock behind every open insert."""
    first, second = (build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime)) for _ in "ab")

    async def start(app):
        async with app.open_async():
            await asyncio.wait_for(ensure_schema(app), timeout=5)

    asyncio.run(start(first))
    with psycopg.connect(libpq_url(postgres_url)) as writing:
        writing.execute("LOCK TABLE procrastinate_jobs IN ROW EXCLUSIVE MODE")  # an insert's
        asyncio.run(start(second))  # TimeoutError if it queued behind the writer


def test_a_sweep_enqueues_one_pass_per_lock_however_often_it_runs(pg_runtime, postgres_url, today):
    props = world(pg_runtime, today)
    app = build_job_app(postgres_url, Reconciler.from_runtime(pg_runtime))
    lock_ids = [prop.locks[0].id for prop in props]
    ids_before = None

    async def scenario():
        nonlocal ids_before
        async with app.open_async():
            await ensure_schema(app)
            ids_before = await asyncio.to_thread(job_ids_taken, postgres_url)
            await defer_sweep(app, lock_ids)
            await defer_sweep(app, lock_ids)

    asyncio.run(scenario())
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        waiting = connection.execute(
            "SELECT args->>'lock_id' FROM procrastinate_jobs WHERE task_name = %s", (RECONCILE,)
        ).fetchall()
    assert sorted(lock_id for (lock_id,) in waiting) == sorted(lock_ids)
    assert job_ids_taken(postgres_url) - ids_before == len(lock_ids)  # the second tried none
