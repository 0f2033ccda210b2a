"""A push heard by several worker processes is one access event; two real openings are two.

Z-Wave JS and zigbee2mqtt push an opening to every listening process, without an id of their
own: each process translates what it heard, and the ids must agree for the access log (unique
per lock and event id) to keep the opening once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from doorcode.locks.zwave_js.events import access_events_of
from doorcode.locks.zwave_js.link import HeardEvent
from doorcode.services.access_events import AccessPolicy, ingest_access_events
from doorcode.store.models import AccessEventRow
from tests.builders import make_lock, make_owner

POLICY = AccessPolicy(channels=frozenset({"console"}))


def keypad_opening(node_id, heard_at, slot):
    args = {"type": 6, "event": 6, "label": "Access Control", "parameters": {"userId": slot}}
    return HeardEvent(node_id, heard_at, "notification", args)


def stored(runtime):
    with runtime.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AccessEventRow))


def deliver(runtime, device_id, heard):
    """What one worker process's access poll stores of what its link heard."""
    ingest_access_events(runtime.uow(), "virtual", access_events_of(device_id, heard), POLICY)


def test_an_opening_heard_by_two_worker_processes_is_stored_once(runtime, clock):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Front door")
    heard_at = clock().replace(second=31, microsecond=400_000)
    deliver(runtime, door.external_id, [keypad_opening(2, heard_at, 5)])
    later = heard_at + timedelta(milliseconds=40)  # the second process heard it a bit later
    deliver(runtime, door.external_id, [keypad_opening(2, later, 5)])
    assert stored(runtime) == 1


def test_two_openings_with_one_code_seconds_apart_are_two_events(runtime, clock):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Front door")
    first = clock().replace(second=31, microsecond=400_000)
    openings = [keypad_opening(2, first, 5), keypad_opening(2, first + timedelta(seconds=4), 5)]
    deliver(runtime, door.external_id, openings)
    deliver(runtime, door.external_id, openings)  # and the other process heard both too
    assert stored(runtime) == 2
