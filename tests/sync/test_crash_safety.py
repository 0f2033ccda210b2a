"""A crash between the provider calls and the database commit loses nothing and doubles nothing.

The power is cut (an exception is injected) exactly after the pass has programmed the locks and
before its results are written. A fresh reconciler, as after a restart, then finds the codes by
their tag: it adopts the ones that still belong and removes the ones that do not.
"""

from collections import Counter
from datetime import date, timedelta

import pytest

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.reservations import cancel_reservation
from doorcode.store.lock_sync import LockSyncRepository
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import CountingProvider, event_kinds, grants_on, reconcile, statuses

TODAY = date(2026, 11, 23)


class PowerCut(Exception):
    pass


@pytest.fixture
def world(runtime, clock):
    owner = make_owner(runtime)
    street = make_lock(runtime, owner, "Street door")
    door = make_lock(runtime, owner, "Flat door", LockCapabilities(native_scheduling=False))
    flat = make_property(runtime, owner, "Flat", locks=[street, door], time_zone="UTC")
    bookings = [
        book(
            runtime,
            owner,
            flat,
            f"B{n}",
            TODAY + timedelta(days=2 * n),
            TODAY + timedelta(days=2 * n + 1),
        )
        for n in range(3)
    ]
    clock.advance(hours=5, minutes=30)  # 14:30: the first guest is due on both locks
    return owner, [street, door], bookings


def cut_power_before_commit(monkeypatch):
    def save(self, states, codes):
        raise PowerCut

    monkeypatch.setattr(LockSyncRepository, "save", save)


def restarted(runtime):
    counting = CountingProvider(runtime.providers.shared("virtual"))
    runtime.providers = ProviderRegistry([counting])
    return counting


def test_codes_set_before_a_crash_are_adopted_not_set_twice(runtime, world, monkeypatch):
    _, locks, bookings = world
    cut_power_before_commit(monkeypatch)
    with pytest.raises(PowerCut):
        reconcile(runtime)
    monkeypatch.undo()
    on_locks = {lock.id: grants_on(runtime, lock) for lock in locks}
    assert sum(map(len, on_locks.values())) == 3  # street: the two within 72 h, door: the first
    assert all(statuses(runtime, b.grant.id)[locks[0].id] == "pending" for b in bookings)
    counting = restarted(runtime)
    reconcile(runtime)
    assert counting.calls["create_code"] == 0
    assert {lock.id: grants_on(runtime, lock) for lock in locks} == on_locks
    assert event_kinds(runtime)["LockCodeAdopted"] == 3
    assert statuses(runtime, bookings[0].grant.id) == {lock.id: "set" for lock in locks}


def test_an_orphan_whose_grant_went_away_during_the_outage_is_removed(runtime, world, monkeypatch):
    owner, locks, bookings = world
    cut_power_before_commit(monkeypatch)
    with pytest.raises(PowerCut):
        reconcile(runtime)
    monkeypatch.undo()
    cancel_reservation(runtime.uow(), owner, bookings[0].reservation.id)
    counting = restarted(runtime)
    reconcile(runtime)
    assert counting.calls["create_code"] == 0
    assert all(bookings[0].grant.id not in grants_on(runtime, lock) for lock in locks)
    assert grants_on(runtime, locks[0]) == [bookings[1].grant.id]
    assert set(statuses(runtime, bookings[0].grant.id).values()) == {"removed"}


def test_crashing_on_every_other_pass_still_converges_without_duplicates(
    runtime, world, monkeypatch, clock
):
    _, locks, bookings = world
    for _ in range(6):
        cut_power_before_commit(monkeypatch)
        with pytest.raises(PowerCut):
            reconcile(runtime)
        monkeypatch.undo()
        reconcile(runtime)
        for lock in locks:
            assert max(Counter(grants_on(runtime, lock)).values(), default=1) == 1
        clock.advance(days=1)
    assert all(grants_on(runtime, lock) == [] for lock in locks)
    assert all(set(statuses(runtime, b.grant.id).values()) == {"removed"} for b in bookings)
