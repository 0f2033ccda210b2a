"""``doorcode worker`` runs every background loop as jobs: lock sync, feeds, pushes, messages."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from doorcode.background import background_jobs
from doorcode.cli.main import app as cli
from doorcode.config import Runner
from doorcode.domain.messages import ChannelName
from doorcode.services.guidebook import report_arrival
from doorcode.services.host_contact import HostContact, set_host_contact
from doorcode.services.messages import list_messages
from doorcode.store.message_repository import MessageFilter
from doorcode.store.models import HostNotice
from doorcode.sync.jobs import QUEUE, RECONCILE, defer_reconcile, ensure_schema
from doorcode.worker import BACKGROUND_QUEUE, PERIODIC_TASKS, build_worker_app
from tests.builders import book, guide_token_of, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.sync.helpers import drain, job_statuses

pytestmark = pytest.mark.postgres


@pytest.fixture
def clock(database_clock):
    """Procrastinate schedules by PostgreSQL's clock: the test's clock starts from it."""
    return database_clock


@pytest.fixture
def today(clock):
    return clock.now.date()


def test_the_worker_app_has_lock_tasks_and_every_periodic_loop(pg_runtime):
    app = build_worker_app(pg_runtime)
    assert {RECONCILE, *PERIODIC_TASKS} <= set(app.tasks)
    assert {app.tasks[name].queue for name in PERIODIC_TASKS} == {BACKGROUND_QUEUE}


def test_a_worker_reconciles_then_plans_the_guests_message(pg_runtime, postgres_url, today):
    owner = make_owner(pg_runtime)
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC")
    booked = book(pg_runtime, owner, flat, "B1", today, today + timedelta(days=2))
    app = build_worker_app(pg_runtime)

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            await defer_reconcile(app, [flat.locks[0].id])
            await drain([app], postgres_url, (QUEUE, BACKGROUND_QUEUE))
            for name in PERIODIC_TASKS:
                await app.configure_task(name, queue=BACKGROUND_QUEUE).defer_async(timestamp=0)
            await drain([app], postgres_url, (QUEUE, BACKGROUND_QUEUE))

    asyncio.run(scenario())
    statuses = job_statuses(postgres_url)
    assert all(statuses.get((name, "succeeded"), 0) >= 1 for name in PERIODIC_TASKS), statuses
    assert not [key for key in statuses if key[1] == "failed"], statuses
    [entry] = list_messages(pg_runtime.uow(), owner, MessageFilter())
    assert entry.message.grant_id == booked.grant.id


def test_with_workers_serve_runs_no_loop_and_only_enqueues_lock_passes(pg_runtime):
    pg_runtime.settings.runner = Runner.WORKER
    assert background_jobs(pg_runtime) == []
    assert len(pg_runtime.commit_hooks) == 1


def test_a_worker_sends_what_guests_told_their_host(pg_runtime, postgres_url, today):
    pg_runtime.settings.console_messages = True
    owner = make_owner(pg_runtime)
    set_host_contact(pg_runtime.uow(), owner, HostContact("Marta", "marta@acme.example"))
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC")
    staying = today - timedelta(days=1)  # arrival can be reported once the stay has begun
    booked = book(pg_runtime, owner, flat, "B1", staying, today + timedelta(days=2))
    console = frozenset({ChannelName.CONSOLE})
    report_arrival(
        pg_runtime.uow(), guide_token_of(pg_runtime, booked.reservation), "198.51.100.1", console
    )
    app = build_worker_app(pg_runtime)

    async def scenario():
        async with app.open_async():
            await ensure_schema(app)
            task = app.configure_task("doorcode.messages", queue=BACKGROUND_QUEUE)
            await task.defer_async(timestamp=0)
            await drain([app], postgres_url, (QUEUE, BACKGROUND_QUEUE))

    asyncio.run(scenario())
    with pg_runtime.uow() as uow:
        [notice] = uow.session.scalars(select(HostNotice))
    assert (notice.channel, notice.status) == ("console", "sent")


def test_with_workers_a_cli_change_is_enqueued_at_its_commit(
    pg_runtime, postgres_url, tmp_path, monkeypatch, today
):
    """Not left to the workers' minute-long catch-up: the command enqueues the lock's pass."""
    app = build_worker_app(pg_runtime)

    async def schema():
        async with app.open_async():
            await ensure_schema(app)

    asyncio.run(schema())
    owner = make_owner(pg_runtime)
    flat = make_property(pg_runtime, owner, "Flat", time_zone="UTC", external_id="f1")
    for name, value in {
        "DOORCODE_DATABASE_URL": postgres_url,
        "DOORCODE_SECRET_KEY": TEST_KEY,
        "DOORCODE_DATA_DIR": str(tmp_path),
        "DOORCODE_RUNNER": "worker",
    }.items():
        monkeypatch.setenv(name, value)
    check_in = datetime.now(UTC).date() + timedelta(days=3)
    result = CliRunner().invoke(
        cli,
        [
            "reservation",
            "add",
            "--property",
            "f1",
            "--guest",
            "Ada",
            "--check-in",
            str(check_in),
            "--check-out",
            str(check_in + timedelta(days=2)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert job_statuses(postgres_url) == {(RECONCILE, "todo"): 1}
    assert flat.locks  # the job is this property's lock's pass
