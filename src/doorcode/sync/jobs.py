"""``doorcode worker``: the same reconcile, as Procrastinate jobs on PostgreSQL.

Any number of worker processes on any number of machines share one queue. Each job reconciles
one lock, under the Procrastinate job lock ``lock:<lock id>``: no two workers ever work on one
device at once, and a queueing lock keeps at most one waiting job per lock.

    reconcile_lock(lock_id)   the pass itself; afterwards it schedules wake_lock at the lock's
                              next change instant (or retry), so codes move on time
    wake_lock(lock_id)        at that instant, enqueues reconcile_lock; kept separate because a
                              job scheduled for later must not hold the lock's job lock (a
                              waiting job with a lock blocks every later job with that lock)
    sweep                     periodic (DOORCODE_SWEEP_INTERVAL): every lock
    catch_up                  every minute: locks whose grants changed or that are due, from
                              the database, in case a nudge from ``serve`` went missing
    recover_stalled           every minute: jobs a killed worker left "doing" go back to the
                              queue. Procrastinate never does this by itself, and such a job
                              keeps its job lock: every later pass of that lock would wait
                              behind it forever (rows "setting", 0 attempts, no error)

``doorcode serve`` with ``DOORCODE_RUNNER=worker`` enqueues reconcile_lock after each commit
that touches locks; the database stays the durable trigger (``catch_up``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import JobDeferrer, Status

from doorcode.runtime import Runtime
from doorcode.store.database import libpq_url
from doorcode.sync.reconciler import Reconciler

__all__ = [
    "LOCK_INDEX",
    "QUEUE",
    "RECONCILE",
    "RECOVER_STALLED",
    "STALLED_AFTER",
    "JobEnqueuer",
    "build_job_app",
    "defer_reconcile",
    "defer_sweep",
    "enqueue_after_commit",
    "ensure_schema",
    "retry_stalled_jobs",
    "sweep_cron",
]

logger = logging.getLogger(__name__)

QUEUE = "doorcode-locks"
RECONCILE = "doorcode.reconcile_lock"
WAKE = "doorcode.wake_lock"
SWEEP = "doorcode.sweep"
CATCH_UP = "doorcode.catch_up"
MAX_CLOCK_SKEW = timedelta(seconds=30)
"""The most a wake-up waits for the worker's clock to catch up with the database's."""
RECOVER_STALLED = "doorcode.recover_stalled"
STALLED_AFTER = 90.0
"""Seconds without a heartbeat after which a worker is taken for dead (it beats every 10 s)."""


_STEPS_OF_A_MINUTE_OR_HOUR = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_STEPS_OF_A_DAY = (1, 2, 3, 4, 6, 8, 12)


def sweep_cron(interval: timedelta) -> str:
    """A cron line that sweeps evenly, never further apart than ``interval``.

    A cron step restarts with its unit: ``*/45`` minutes fires at :00 and :45, 15 minutes
    then 45. So the step is rounded down to one that divides its unit (45 min sweeps every
    30, 90 min every hour, 5 h every 4); a day or more sweeps at midnight UTC. Under a
    minute the sixth column counts seconds.
    """
    seconds = max(1, int(interval.total_seconds()))
    if seconds < 60:
        return f"* * * * * */{_even_step(_STEPS_OF_A_MINUTE_OR_HOUR, seconds)}"
    if seconds < 3600:
        return f"*/{_even_step(_STEPS_OF_A_MINUTE_OR_HOUR, seconds // 60)} * * * *"
    if seconds < 24 * 3600:
        return f"0 */{_even_step(_STEPS_OF_A_DAY, seconds // 3600)} * * *"
    return "0 0 * * *"


def _even_step(steps: tuple[int, ...], wanted: int) -> int:
    """The longest step of ``steps`` not longer than ``wanted``."""
    return max(step for step in steps if step <= wanted)


def build_job_app(
    database_url: str, reconciler: Reconciler, *, sweep_interval: timedelta | None = None
) -> App:
    """The Procrastinate app with doorcode's lock tasks; periodic ones only with an interval."""
    app = App(connector=PsycopgConnector(conninfo=libpq_url(database_url)))

    @app.task(name=RECONCILE, queue=QUEUE)
    async def reconcile_lock(lock_id: str) -> None:
        for outcome in await reconciler.reconcile([lock_id]):
            at = outcome.next_sync_at
            # A pass has just handled everything due by its own clock: an instant that is
            # not in its future would make a wake that is ready at once, then the same
            # instant again, forever. The sweep still looks at the lock.
            if at is not None and at > reconciler.now():
                await schedule_wake(app, lock_id, at)

    @app.task(name=WAKE, queue=QUEUE)
    async def wake_lock(lock_id: str, at: str | None = None) -> None:
        await _until(reconciler, at)
        await defer_reconcile(app, [lock_id])

    async def sweep(timestamp: int) -> None:
        await defer_sweep(app, await asyncio.to_thread(reconciler.every_lock))

    async def catch_up(timestamp: int) -> None:
        await defer_reconcile(app, await asyncio.to_thread(reconciler.pending))

    async def recover_stalled(timestamp: int) -> None:
        retried = await retry_stalled_jobs(app)
        if retried:
            logger.warning("put back %d job(s) that a stopped worker had taken", retried)

    if sweep_interval is not None:
        cron = sweep_cron(sweep_interval)
        app.periodic(cron=cron, periodic_id="sweep")(app.task(name=SWEEP, queue=QUEUE)(sweep))
        catch_up_task = app.task(name=CATCH_UP, queue=QUEUE)(catch_up)
        app.periodic(cron="* * * * *", periodic_id="catch-up")(catch_up_task)
        # No job lock: a recovery job left by a killed worker must not block the next one.
        recover_task = app.task(name=RECOVER_STALLED, queue=QUEUE)(recover_stalled)
        app.periodic(cron="* * * * *", periodic_id="recover-stalled")(recover_task)
    return app


async def retry_stalled_jobs(app: App, seconds_since_heartbeat: float = STALLED_AFTER) -> int:
    """Put back in the queue every job whose worker stopped beating; returns how many.

    A job whose twin already waits (the same queueing lock) is closed as failed instead.

    A worker killed mid-job leaves the job "doing" with its job lock held, so no later job
    with that lock (every pass of that lock) would ever run. Every job here is level-triggered
    (a pass, a feed poll, a push round), so running one again is always safe.
    """
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds_since_heartbeat
    )
    retried = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            # The same work already waits in the queue (its queueing lock): release this
            # copy's job lock so that one can run.
            await app.job_manager.finish_job(job, Status.FAILED, delete_job=False)
        except ConnectorException:  # another worker put it back first, or it finished
            continue
        retried += 1
    return retried


WAITING_PASSES = (
    "SELECT queueing_lock FROM procrastinate_jobs "
    "WHERE status = 'todo' AND queueing_lock = ANY(%(queueing_locks)s)"
)
"""The locks of a batch that already have a pass waiting (read through Procrastinate's own
partial unique index on waiting jobs' queueing locks)."""


def _queueing_lock(lock_id: str) -> str:
    return f"reconcile:{lock_id}"


def _pass_of(app: App, lock_id: str) -> JobDeferrer:
    """A lock's pass: under its job lock, at most one waiting."""
    return app.configure_task(
        RECONCILE, queue=QUEUE, lock=f"lock:{lock_id}", queueing_lock=_queueing_lock(lock_id)
    )


def _without_waiting(lock_ids: Iterable[str], waiting: list[dict[str, object]]) -> list[str]:
    """The locks without a waiting pass, in order.

    Skipping a lock whose pass waits is safe: that pass has not started, so it reads what was
    committed before the question was asked. Deferring it anyway was refused by the queueing
    lock, and each refusal is a unique violation PostgreSQL writes to its log as an ERROR with
    the statement: three lines per booking when no worker ran, thousands per sweep.
    """
    queued = {row["queueing_lock"] for row in waiting}
    return [lock_id for lock_id in lock_ids if _queueing_lock(lock_id) not in queued]


async def defer_reconcile(app: App, lock_ids: Iterable[str]) -> None:
    """Enqueue a pass for each lock, unless one is already waiting."""
    wanted = list(lock_ids)
    waiting = await app.connector.execute_query_all_async(
        WAITING_PASSES, queueing_locks=[_queueing_lock(lock_id) for lock_id in wanted]
    )
    for lock_id in _without_waiting(wanted, waiting):
        with contextlib.suppress(AlreadyEnqueued):  # one deferred in the meantime
            await _pass_of(app, lock_id).defer_async(lock_id=lock_id)


async def defer_sweep(app: App, lock_ids: Sequence[str]) -> None:
    """Enqueue a pass for every lock, then refresh the queue's statistics.

    Thousands of jobs arrive in seconds, long before autovacuum's next look: with the old
    statistics PostgreSQL plans Procrastinate's fetch as a nested loop over every waiting job,
    8 s a fetch at 10,000 waiting (measured by ``bench/workers.py``), and the workers stall.
    """
    await defer_reconcile(app, lock_ids)
    try:
        await app.connector.execute_query_async("ANALYZE procrastinate_jobs")
    except Exception:  # statistics are an optimisation; autovacuum refreshes them in time
        logger.warning("could not refresh the job queue's statistics", exc_info=True)


async def schedule_wake(app: App, lock_id: str, at: datetime) -> None:
    """Enqueue a pass for the lock at ``at`` (once per lock and instant)."""
    deferrer = app.configure_task(
        WAKE, queue=QUEUE, schedule_at=at, queueing_lock=f"wake:{lock_id}:{at.isoformat()}"
    )
    with contextlib.suppress(AlreadyEnqueued):
        await deferrer.defer_async(lock_id=lock_id, at=at.isoformat())


async def _until(reconciler: Reconciler, at: str | None) -> None:
    """Wait until the worker's clock reaches ``at`` too, for at most ``MAX_CLOCK_SKEW``.

    PostgreSQL decides when a scheduled job is ready, by its own clock. When that clock runs
    ahead of the worker's, the pass that follows would still see the instant in its future,
    compute it again and schedule it again: a spin that lasts as long as the skew.
    """
    if at is None:
        return
    ahead = (datetime.fromisoformat(at) - reconciler.now()).total_seconds()
    if ahead > 0:
        await asyncio.sleep(min(ahead, MAX_CLOCK_SKEW.total_seconds()))


async def ensure_schema(app: App) -> None:
    """Apply Procrastinate's schema to the database if it is not there yet, and our index."""
    if not await _has_schema(app):
        try:
            await app.schema_manager.apply_schema_async()
            logger.info("applied the Procrastinate schema")
        except Exception:
            if not await _has_schema(app):  # another worker won the race otherwise
                raise
    await _ensure_lock_index(app)


LOCK_INDEX = "doorcode_jobs_lock_waiting"
"""Procrastinate's fetch asks, for each waiting job, whether an earlier job with its lock
waits or runs; its own indexes lead with the id, so each such question scans them. With this
one a fetch at 10,000 waiting jobs takes about 0.1 s instead of 8 s before the statistics
catch up (``bench/workers.py``), and stays cheap after."""


async def _ensure_lock_index(app: App) -> None:
    """Make the index once; asked first, because even ``IF NOT EXISTS`` takes a SHARE lock on
    the job table, which would make every starting worker wait on the running ones' inserts."""
    if await _has_lock_index(app):
        return
    try:
        await app.connector.execute_query_async(
            f"CREATE INDEX IF NOT EXISTS {LOCK_INDEX} ON procrastinate_jobs (lock, id) "
            "WHERE status IN ('todo', 'doing')"
        )
    except Exception:
        if not await _has_lock_index(app):  # another worker made it at the same moment
            raise


async def _has_lock_index(app: App) -> bool:
    row = await app.connector.execute_query_one_async(
        f"SELECT to_regclass('{LOCK_INDEX}') IS NOT NULL AS present"
    )
    return bool(row["present"])


async def _has_schema(app: App) -> bool:
    row = await app.connector.execute_query_one_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
    )
    return bool(row["present"])


class JobEnqueuer:
    """A commit hook for ``serve`` when workers reconcile: enqueue the touched locks.

    It runs after the commit, so it must not fail the request: if the queue is unreachable it
    logs, and the workers' ``catch_up`` finds the locks from the database within a minute.
    """

    def __init__(self, database_url: str) -> None:
        self._app = App(connector=SyncPsycopgConnector(conninfo=libpq_url(database_url)))
        self._opened = False

    def __call__(self, lock_ids: frozenset[str]) -> None:
        if not lock_ids:
            return
        try:
            self._enqueue(sorted(lock_ids))
        except Exception:
            logger.warning(
                "could not enqueue lock sync for %d lock(s); the workers' catch-up will",
                len(lock_ids),
                exc_info=True,
            )

    def close(self) -> None:
        """Release the queue's connections."""
        if self._opened:
            self._app.close()
            self._opened = False

    def _enqueue(self, lock_ids: list[str]) -> None:
        if not self._opened:
            self._app.open()
            self._opened = True
        waiting = self._app.connector.execute_query_all(
            WAITING_PASSES, queueing_locks=[_queueing_lock(lock_id) for lock_id in lock_ids]
        )
        for lock_id in _without_waiting(lock_ids, waiting):
            with contextlib.suppress(AlreadyEnqueued):  # one deferred in the meantime
                _pass_of(self._app, lock_id).defer(lock_id=lock_id)


def enqueue_after_commit(runtime: Runtime) -> JobEnqueuer:
    """The commit hook ``serve`` installs when ``DOORCODE_RUNNER=worker``."""
    return JobEnqueuer(runtime.settings.resolved_database_url())
