"""Reads every webhook delivery makes find their rows by index, however many bookings are kept.

A full scan there costs nothing on an empty database and grows with every booking stored: the
cost the ingest benchmark's 100,000-booking run exists to catch, seen here on SQLite's plan.
"""

import pytest

from doorcode.store import repositories


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
