"""Slots are held in the database: two passes in two processes never reserve one slot for two
grants, on SQLite (``doorcode lock sync`` beside ``serve``) and on PostgreSQL (two workers)."""

import threading
import time
from datetime import date, timedelta

import pytest

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.grants import reveal_code
from doorcode.store.models import LockCode
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import reconcile
from tests.sync.slot_lock import SlotLockProvider

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day
WAIT = 30.0
"""Bound on every wait for the other "process" (its database waits up to 30 s for a lock)."""


@pytest.fixture
def slots(any_runtime):
    provider = SlotLockProvider()
    any_runtime.providers = ProviderRegistry([provider])
    return provider


@pytest.fixture
def door(any_runtime, slots):
    owner = make_owner(any_runtime)
    capabilities = LockCapabilities(max_codes=30, native_scheduling=False)
    lock = make_lock(any_runtime, owner, "Front door", capabilities)
    slots.add(lock.external_id, 30)
    flat = make_property(any_runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    return owner, lock, flat


def stay(runtime, owner, flat, ref):
    outcome = book(runtime, owner, flat, ref, TODAY, TODAY + timedelta(days=2))
    return outcome.grant.id, reveal_code(runtime.uow(), owner, outcome.grant.id)


def ended(thread: threading.Thread, within: float) -> bool:
    """Whether ``thread`` ends within ``within`` seconds, by polling: a timed ``join`` is not
    bounded under faketime, whose clock the thread library's deadline is computed from."""
    deadline = time.monotonic() + within
    while thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not thread.is_alive()


def slot_of(runtime, grant_id, lock):
    with runtime.uow() as uow:
        return uow.session.get(LockCode, (grant_id, lock.id)).slot


def race(runtime, lock, held: tuple[str, int], wanted: tuple[str, int]) -> list[bool]:
    """One process reserves ``held`` (grant, slot) and, before it commits, another process
    asks for ``wanted`` on its own connection; what the other was answered."""
    answers: list[bool] = []

    def rival() -> None:
        with runtime.uow() as uow:
            answers.append(uow.lock_sync.reserve_slot(lock.id, *wanted))
            if answers[-1]:
                uow.commit()

    with runtime.uow() as uow:
        assert uow.lock_sync.reserve_slot(lock.id, *held)
        racing = threading.Thread(target=rival, daemon=True)
        racing.start()
        assert not ended(racing, 0.5), "the rival went ahead while the slot was being reserved"
        uow.commit()
    assert ended(racing, WAIT)
    return answers


def test_two_reservations_racing_for_one_slot_hold_it_for_one_grant(any_runtime, door):
    owner, lock, flat = door
    first, _ = stay(any_runtime, owner, flat, "B1")
    second, _ = stay(any_runtime, owner, flat, "B2")
    assert race(any_runtime, lock, (first, 4), (second, 4)) == [False]
    assert (slot_of(any_runtime, first, lock), slot_of(any_runtime, second, lock)) == (4, None)


def test_a_grant_holding_a_slot_is_not_moved_by_a_process_that_chose_another(any_runtime, door):
    owner, lock, flat = door
    grant, _ = stay(any_runtime, owner, flat, "B1")
    # the other process read a snapshot where the grant held no slot, and chose 5
    assert race(any_runtime, lock, (grant, 4), (grant, 5)) == [False]
    assert slot_of(any_runtime, grant, lock) == 4
    with any_runtime.uow() as uow:  # asking again for the slot it holds is no move
        assert uow.lock_sync.reserve_slot(lock.id, grant, 4)


def test_a_pass_never_writes_a_code_into_a_slot_its_grant_does_not_hold(
    any_runtime, slots, door, clock, monkeypatch
):
    owner, lock, flat = door
    grant, code = stay(any_runtime, owner, flat, "B1")
    on_lock = slots.devices[lock.external_id].slots
    clock.advance(hours=5)
    reserve = Reconciler._reserve_slot
    raced: list[int] = []

    async def reserve_after_a_rival(self, lock_id, grant_id, slot, written=None):
        if not raced:  # another process puts this very grant's code in slot 7 just before us
            raced.append(slot)
            with any_runtime.uow() as uow:
                assert uow.lock_sync.reserve_slot(lock_id, grant_id, 7)
                uow.commit()
            on_lock[7] = code
        return await reserve(self, lock_id, grant_id, slot, written)

    monkeypatch.setattr(Reconciler, "_reserve_slot", reserve_after_a_rival)
    reconcile(any_runtime)
    assert raced == [4]
    assert slot_of(any_runtime, grant, lock) == 7
    assert on_lock == {7: code}
    monkeypatch.undo()
    clock.advance(minutes=2)
    reconcile(any_runtime)  # the next pass finds the code where the grant holds it
    assert slot_of(any_runtime, grant, lock) == 7
    assert on_lock == {7: code}


def test_a_pass_whose_slot_another_process_took_writes_into_the_next_free_one(
    any_runtime, slots, door, clock, monkeypatch
):
    owner, lock, flat = door
    codes = dict([stay(any_runtime, owner, flat, "B1"), stay(any_runtime, owner, flat, "B2")])
    on_lock = slots.devices[lock.external_id].slots
    clock.advance(hours=5)
    reserve = Reconciler._reserve_slot
    raced: list[tuple[str, str, int]] = []

    async def reserve_after_a_rival(self, lock_id, grant_id, slot, written=None):
        if not raced:  # another process takes the slot for the other stay just before us
            rival = next(other for other in codes if other != grant_id)
            raced.append((grant_id, rival, slot))
            with any_runtime.uow() as uow:
                assert uow.lock_sync.reserve_slot(lock_id, rival, slot)
                uow.commit()
            on_lock[slot] = codes[rival]  # and writes its guest's code there
        return await reserve(self, lock_id, grant_id, slot, written)

    monkeypatch.setattr(Reconciler, "_reserve_slot", reserve_after_a_rival)
    reconcile(any_runtime)
    [(ours, theirs, slot)] = raced
    assert slot == 4
    assert (slot_of(any_runtime, ours, lock), slot_of(any_runtime, theirs, lock)) == (5, 4)
    assert on_lock == {4: codes[theirs], 5: codes[ours]}  # nobody's code written over


def test_a_pass_finding_every_slot_it_tries_taken_leaves_the_code_to_the_next_pass(
    any_runtime, slots, door, clock, monkeypatch
):
    owner, lock, flat = door
    ours, our_code = stay(any_runtime, owner, flat, "B1")
    clock.advance(hours=5)

    async def always_taken(self, lock_id, grant_id, slot):
        return False

    monkeypatch.setattr(Reconciler, "_reserve_slot", always_taken)
    reconcile(any_runtime)
    assert slots.devices[lock.external_id].slots == {}
    assert slot_of(any_runtime, ours, lock) is None
    monkeypatch.undo()
    clock.advance(minutes=2)
    reconcile(any_runtime)
    assert slots.devices[lock.external_id].slots == {4: our_code}


def test_a_slot_is_free_for_another_grant_once_its_stay_is_over_and_its_code_gone(
    any_runtime, slots, door, clock
):
    owner, lock, flat = door
    first, _ = stay(any_runtime, owner, flat, "B1")
    clock.advance(hours=5)
    reconcile(any_runtime)
    clock.advance(days=2)  # check-out: the code leaves, the slot is released
    reconcile(any_runtime)
    later = book(
        any_runtime, owner, flat, "B2", TODAY + timedelta(days=2), TODAY + timedelta(days=4)
    )
    reconcile(any_runtime)
    assert slot_of(any_runtime, later.grant.id, lock) == slot_of(any_runtime, first, lock) == 4
