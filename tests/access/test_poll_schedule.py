"""How often the access pass asks each lock: every pass while a code on it is in use, else
every ``DOORCODE_ACCESS_QUIET_POLL_SECONDS`` (a cloud's quota is shared with the lock passes)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from doorcode.services.reservations import cancel_reservation
from doorcode.sync.access_poller import poll_access
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, reconcile


def poll(runtime):
    return asyncio.run(asyncio.wait_for(poll_access(runtime), 20))


@pytest.fixture
def asked(runtime, monkeypatch):
    """How many times each device was asked for its access events."""
    cloud = cloud_of(runtime)
    counts: Counter[str] = Counter()
    original = cloud.entries_after

    def counting(device_id, cursor):
        counts[device_id] += 1
        return original(device_id, cursor)

    monkeypatch.setattr(cloud, "entries_after", counting)
    return counts


@pytest.fixture
def world(runtime, clock):
    """A flat with a guest in it, and four sheds nobody is booked into."""
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Flat 1A door")
    sheds = [make_lock(runtime, owner, f"Shed {n}") for n in range(4)]
    flat = make_property(runtime, owner, "Flat 1A", locks=[door], time_zone="UTC")
    make_property(runtime, owner, "Sheds", locks=sheds, time_zone="UTC")
    today = clock().date()
    book(runtime, owner, flat, "B-1", today - timedelta(days=1), today + timedelta(days=2))
    reconcile(runtime)
    return door, sheds


def test_a_lock_in_use_is_asked_every_pass_a_quiet_one_each_quarter_hour(
    runtime, clock, world, asked
):
    door, sheds = world
    for _ in range(30):
        poll(runtime)
        clock.advance(minutes=1)
    assert asked[door.external_id] == 30
    for shed in sheds:  # the first pass, then after 11-15 minutes each time
        assert asked[shed.external_id] in (2, 3)
    assert sum(asked.values()) <= 30 + 4 * 3


def test_what_happens_at_a_quiet_door_is_heard_within_the_quarter_hour(runtime, clock, world):
    _, sheds = world
    poll(runtime)
    clock.advance(minutes=1)
    cloud_of(runtime).enter(sheds[0].external_id, "999999")
    heard_after = None
    for minute in range(1, 17):
        if poll(runtime).stored:
            heard_after = minute
            break
        clock.advance(minutes=1)
    assert heard_after is not None, "the opening was never heard"
    assert heard_after <= 15


def test_a_stay_makes_its_locks_busy_an_hour_before_check_in(runtime, clock, asked):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Flat 2B door")
    flat = make_property(runtime, owner, "Flat 2B", locks=[door], time_zone="UTC")
    tomorrow = clock().date() + timedelta(days=1)
    booked = book(runtime, owner, flat, "B-2", tomorrow, tomorrow + timedelta(days=2))
    with runtime.uow() as uow:
        check_in = uow.grants.guest_grant_of(booked.reservation.id).starts_at
    reconcile(runtime)
    poll(runtime)  # asked once, then quiet until the check-in hour draws near
    clock.now = check_in - timedelta(minutes=50)
    before = asked[door.external_id]
    for _ in range(5):
        poll(runtime)
        clock.advance(minutes=1)
    assert asked[door.external_id] == before + 5


def test_zero_asks_every_lock_every_pass(runtime, clock, world, asked):
    runtime.settings.access_quiet_poll_seconds = 0
    door, sheds = world
    for _ in range(3):
        poll(runtime)
        clock.advance(minutes=1)
    assert {asked[lock.external_id] for lock in [door, *sheds]} == {3}


def test_a_cancelled_stay_leaves_its_lock_quiet_an_hour_later(runtime, clock, asked):
    owner = make_owner(runtime)
    door = make_lock(runtime, owner, "Flat 3C door")
    flat = make_property(runtime, owner, "Flat 3C", locks=[door], time_zone="UTC")
    today = clock().date()
    booked = book(runtime, owner, flat, "B-3", today - timedelta(days=1), today + timedelta(days=2))
    reconcile(runtime)
    cancel_reservation(runtime.uow(), owner, booked.reservation.id)
    reconcile(runtime)
    clock.advance(hours=2)
    poll(runtime)
    before = asked[door.external_id]
    for _ in range(5):
        clock.advance(minutes=1)
        poll(runtime)
    assert asked[door.external_id] == before
