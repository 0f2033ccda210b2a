"""Reads every webhook delivery makes find their rows by index, however many bookings are kept.

A full scan there costs nothing on an empty database and grows with every booking stored: the
cost the ingest benchmark's 100,000-booking run exists to catch, seen here on SQLite's plan.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from doorcode.domain.windows import TimeWindow
from doorcode.store import repositories
from doorcode.store.ids import new_id
from doorcode.store.models import Grant, LockCode
from tests.builders import make_lock, make_owner

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def plan(runtime, statement) -> list[str]:
    compiled = statement.compile(runtime.engine, compile_kwargs={"render_postcompile": True})
    parameters = tuple("x" for _ in range(str(compiled).count("?")))
    with runtime.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
        return [row[-1] for row in rows]


@pytest.mark.parametrize("name", ["_stored_booking", "_guest_grant_of"])
def test_a_booking_and_its_guest_grant_are_found_by_index(runtime, name):
    steps = plan(runtime, getattr(repositories, name)())
    assert not [step for step in steps if step.startswith("SCAN")], steps
    assert any("uq_grants_one_guest_grant_per_reservation" in step for step in steps), steps


def test_the_property_a_delivery_names_is_read_with_its_locks_by_index(runtime):
    # The locks come in the same read; none of the other properties' links may be scanned.
    steps = plan(runtime, repositories._find_property())
    assert not [step for step in steps if step.startswith(("SCAN", "MATERIALIZE"))], steps
    assert any("property_locks" in step and "INDEX" in step for step in steps), steps


def test_the_property_is_looked_up_by_each_name_not_found_among_the_organisations(runtime):
    # By id, by external id, by name: three index lookups. The organisation's index alone
    # would read every property it has on each delivery.
    steps = plan(runtime, repositories._find_property())
    lookups = [step for step in steps if step.startswith("SEARCH properties")]
    assert len(lookups) == 3, steps
    assert any("(id=?)" in step for step in lookups), steps
    assert any("(organisation_id=? AND external_id=?)" in step for step in lookups), steps
    assert any("(organisation_id=? AND name=?)" in step for step in lookups), steps


def stored_codes(runtime, organisation_id, lock_id, other_id, past, coming):
    """``past`` grants over before NOON, one in twenty on ``lock_id`` and the rest on
    ``other_id``, and ``coming`` after it on ``other_id``, written in bulk (not one by one
    through the ORM: thousands of rows)."""
    grants, codes = [], []
    for number in range(past + coming):
        starts = NOON + timedelta(days=number - past if number < past else 1 + number % 7)
        grant_id = new_id("grt")
        grants.append(
            {
                "id": grant_id,
                "organisation_id": organisation_id,
                "kind": "manual",
                "holder": "x",
                "code_token": f"token-{number}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=20),
                "version": 1,
                "created_at": NOON,
                "updated_at": NOON,
            }
        )
        ours = number < past and number % 20 == 0
        codes.append({"grant_id": grant_id, "lock_id": lock_id if ours else other_id})
    with runtime.engine.begin() as connection:
        connection.execute(insert(Grant), grants)
        connection.execute(insert(LockCode), codes)


@pytest.mark.postgres
def test_the_codes_in_use_on_a_lock_are_read_without_its_past_codes_rows(pg_runtime):
    # A lock's past codes are many (a stay every few days for years): which grants they
    # belong to must come from an index, not from each code's row, however the planner joins.
    owner = make_owner(pg_runtime)
    lock, other = make_lock(pg_runtime, owner, "Door"), make_lock(pg_runtime, owner, "Gate")
    stored_codes(pg_runtime, owner.organisation_id, lock.id, other.id, past=10_000, coming=500)
    with pg_runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE lock_codes")
        c.exec_driver_sql("ANALYZE grants")
    sent = []
    listener = lambda *args: sent.append(args[2:4])  # noqa: E731  (statement, parameters)
    event.listen(pg_runtime.engine, "before_cursor_execute", listener)
    with pg_runtime.uow() as uow:
        uow.grants.codes_in_use([lock.id], TimeWindow(NOON, NOON + DAY))
    event.remove(pg_runtime.engine, "before_cursor_execute", listener)
    [(statement, parameters)] = [sent_ for sent_ in sent if "code_token" in sent_[0]]
    with pg_runtime.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_nestloop = off")  # the join from the lock's side
        found = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
    lock_codes = [line.strip() for line in found if " on lock_codes" in line]
    assert lock_codes, found
    assert all(line.startswith("->  Index Only Scan") for line in lock_codes), found
