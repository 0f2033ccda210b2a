"""SQLite's log is copied into the database beside the writers, not by a commit past 1,000
pages; on PostgreSQL the loop does nothing."""

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from doorcode.background import background_jobs
from doorcode.store.wal_checkpoints import checkpoint, run_checkpoints

PAGES = 3_000
"""Past SQLite's default of 1,000 pages, at which a commit would have checkpointed itself."""


def database_file(runtime) -> Path:
    return Path(make_url(str(runtime.engine.url)).database)


def write_pages(runtime, pages: int) -> None:
    """One commit of ``pages`` pages or so (4 KiB each) into a table of the test's own."""
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS ballast (blob BLOB)")
        connection.exec_driver_sql(
            "INSERT INTO ballast SELECT randomblob(4000) FROM "
            f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages}) "
            "SELECT i FROM n)"
        )


def test_a_big_commit_leaves_its_pages_in_the_log_for_the_checkpoint(runtime):
    # The commit that crosses the threshold used to copy the log itself, paying for every
    # page the others wrote; now it only appends, and the checkpoint copies.
    before = database_file(runtime).stat().st_size
    write_pages(runtime, PAGES)
    assert database_file(runtime).stat().st_size == before
    checkpoint(runtime.engine)
    assert database_file(runtime).stat().st_size > before + (PAGES - 100) * 4096


def test_serve_copies_the_log_soon_after_the_writes(runtime):
    before = database_file(runtime).stat().st_size

    async def scenario():
        loop = asyncio.create_task(run_checkpoints(runtime.engine, timedelta(milliseconds=20)))
        await asyncio.to_thread(write_pages, runtime, PAGES)
        deadline = time.monotonic() + 10
        while database_file(runtime).stat().st_size == before:
            assert time.monotonic() < deadline, "no checkpoint within 10 s"
            await asyncio.sleep(0.02)
        loop.cancel()

    asyncio.run(scenario())


def test_serve_on_sqlite_runs_the_checkpoints(runtime):
    jobs = background_jobs(runtime)
    assert any(getattr(job, "func", None) is run_checkpoints for job in jobs)


@pytest.mark.postgres
def test_on_postgresql_the_loop_ends_at_once(pg_runtime):
    asyncio.run(asyncio.wait_for(run_checkpoints(pg_runtime.engine, timedelta(0)), 5))
