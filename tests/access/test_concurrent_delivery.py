"""Replays and concurrent deliveries of the same events are one row each, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from doorcode.services.access_events import AccessPolicy, ingest_access_events
from doorcode.store.models import AccessEventRow, Event, HostNotice
from tests.access.conftest import at_local, build_stay

DELIVERIES = 8


def deliver_at_once(runtime, batches):
    """Each batch delivered by its own thread, all released together; bounded waits."""
    barrier = threading.Barrier(len(batches), timeout=20)
    failures = []

    def deliver(events):
        try:
            barrier.wait()
            policy = AccessPolicy(channels=frozenset({"console"}))
            ingest_access_events(runtime.uow(), "virtual", events, policy)
        except Exception as err:  # reported below, with the thread's error
            failures.append(err)

    threads = [threading.Thread(target=deliver, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    assert failures == []


def count(runtime, model, *where):
    with runtime.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.postgres
def test_concurrent_deliveries_of_the_same_events_store_each_once_and_tell_the_host_once(
    pg_runtime, clock
):
    stay = build_stay(pg_runtime, clock)
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, "000000")
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.cloud.enter(stay.street.external_id, stay.code)
    door = stay.cloud.entries_after(stay.door.external_id, None).events
    street = stay.cloud.entries_after(stay.street.external_id, None).events
    # Every delivery holds all three events; half of them list the street door first.
    batches = [door + street if n % 2 else street + door for n in range(DELIVERIES)]
    deliver_at_once(pg_runtime, batches)
    assert count(pg_runtime, AccessEventRow) == 3
    assert count(pg_runtime, Event, Event.kind == "GuestArrived") == 1
    assert count(pg_runtime, HostNotice, HostNotice.kind == "guest_arrived") == 1
    deliver_at_once(pg_runtime, [door, street])  # and a late replay
    assert count(pg_runtime, AccessEventRow) == 3
