"""Slot-addressed locks (Z-Wave, Zigbee): doorcode writes only its own slots, a grant keeps its
slot for life, a crash between write and record loses nothing, and strays in our range go."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.locks.access_events import AccessEvent, AccessMethod, AccessOutcome
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.access_events import AccessPolicy, record_events_of_lock
from doorcode.services.grants import regenerate_code, reveal_code
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import AccessEventRow, Event, Lock, LockCode
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import reconcile, statuses
from tests.sync.slot_lock import SlotLockProvider

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day
SLOTS = 30


@pytest.fixture
def slots(runtime):
    provider = SlotLockProvider()
    runtime.providers = ProviderRegistry([provider])
    return provider


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


def slot_lock(
    runtime, owner, slots, name="Front door", size=SLOTS, *, masked=False, write_only=False
):
    capabilities = LockCapabilities(max_codes=size, native_scheduling=False)
    lock = make_lock(runtime, owner, name, capabilities)
    slots.add(lock.external_id, size, masked=masked, write_only=write_only)
    return lock


@pytest.fixture
def lock(runtime, owner, slots):
    return slot_lock(runtime, owner, slots)


@pytest.fixture
def flat(runtime, owner, lock):
    return make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")


def device(slots, lock):
    return slots.devices[lock.external_id].slots


def slot_of(runtime, grant_id, lock):
    with runtime.uow() as uow:
        return uow.session.get(LockCode, (grant_id, lock.id)).slot


def stay(runtime, owner, flat, ref, start, nights):
    outcome = book(runtime, owner, flat, ref, start, start + timedelta(days=nights))
    return outcome.grant, reveal_code(runtime.uow(), owner, outcome.grant.id)


def test_a_code_takes_the_first_slot_doorcode_owns_and_the_owners_slots_stay(
    runtime, owner, slots, lock, flat, clock
):
    device(slots, lock)[1] = "424242"  # the family's code, in a slot the owner keeps
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert device(slots, lock) == {1: "424242", 4: code}
    assert slot_of(runtime, grant.id, lock) == 4
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_guest_keeps_their_slot_while_others_come_and_go(
    runtime, owner, slots, lock, flat, clock
):
    first, first_code = stay(runtime, owner, flat, "B1", TODAY, 3)
    second, second_code = stay(runtime, owner, flat, "B2", TODAY, 6)
    clock.advance(hours=5)
    reconcile(runtime)
    kept, freed = slot_of(runtime, second.id, lock), slot_of(runtime, first.id, lock)
    assert {kept, freed} == {4, 5}
    assert device(slots, lock) == {freed: first_code, kept: second_code}
    clock.advance(days=3)  # the first guest has left
    reconcile(runtime)
    assert device(slots, lock) == {kept: second_code}
    _third, third_code = stay(runtime, owner, flat, "B3", TODAY + timedelta(days=3), 1)
    reconcile(runtime)
    # The newcomer takes the free slot; the guest staying on is never moved.
    assert device(slots, lock) == {freed: third_code, kept: second_code}
    assert slot_of(runtime, second.id, lock) == kept


@pytest.mark.parametrize("masked", [False, True], ids=["readable", "masked"])
def test_moving_the_dates_keeps_the_code_in_its_slot_without_writing(
    runtime, owner, slots, clock, masked
):
    lock = slot_lock(runtime, owner, slots, "Back door", masked=masked)
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    _grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    writes = slots.radio["write"]
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=4))  # two more nights
    reconcile(runtime)
    assert device(slots, lock) == {4: code}
    assert slots.radio["write"] == writes


def test_check_out_and_cancellation_clear_their_slots(runtime, owner, slots, lock, flat, clock):
    staying, code = stay(runtime, owner, flat, "B1", TODAY, 1)
    cancelled = book(runtime, owner, flat, "B2", TODAY, TODAY + timedelta(days=3))
    clock.advance(hours=5)
    reconcile(runtime)
    assert sorted(device(slots, lock)) == [4, 5]
    cancel_reservation(runtime.uow(), owner, cancelled.reservation.id)
    reconcile(runtime)
    assert device(slots, lock) == {slot_of(runtime, staying.id, lock): code}
    clock.advance(days=1)  # past check-out
    reconcile(runtime)
    assert device(slots, lock) == {}


@pytest.mark.parametrize("masked", [False, True], ids=["readable", "masked"])
def test_a_pass_killed_between_write_and_record_writes_nothing_twice(
    runtime, owner, slots, clock, masked
):
    lock = slot_lock(runtime, owner, slots, "Back door", masked=masked)
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    slots.kill_after_write = True
    reconcile(runtime)  # the device took the code; nothing but the slot choice was recorded
    assert device(slots, lock) == {4: code}
    assert slot_of(runtime, grant.id, lock) == 4
    slots.kill_after_write = False
    writes = slots.radio["write"]
    reconcile(runtime, force=True)  # the restarted process, past the crash's backoff
    assert device(slots, lock) == {4: code}
    assert slots.radio["write"] == writes  # recognised by its slot, not written again
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_codes_there_at_the_first_inventory_stay_and_a_later_stray_in_our_range_goes(
    runtime, owner, slots, lock, flat, clock
):
    device(slots, lock)[2] = "111111"  # the owner's slot
    device(slots, lock)[9] = "222222"  # inside doorcode's range: a family code set long ago
    reconcile(runtime)
    assert device(slots, lock) == {2: "111111", 9: "222222"}
    device(slots, lock)[12] = "333333"  # appears later in doorcode's range, held by no grant
    _grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert device(slots, lock) == {2: "111111", 9: "222222", 4: code}
    with runtime.uow() as uow:
        kinds = list(uow.session.scalars(select(Event.kind).where(Event.subject_id == lock.id)))
    assert "StrayCodeCleared" in kinds
    assert "UnmanagedCodeFound" in kinds


def test_a_code_left_by_a_grant_that_moved_off_the_lock_is_cleared(
    runtime, owner, slots, lock, flat, clock
):
    other = make_property(runtime, owner, "Other", time_zone="UTC")
    stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert sorted(device(slots, lock)) == [4]
    book(runtime, owner, other, "B1", TODAY, TODAY + timedelta(days=2))  # moved elsewhere
    reconcile(runtime)
    assert device(slots, lock) == {}


def test_slots_of_stays_whose_codes_left_early_and_that_ended_unseen_are_free_at_once(
    runtime, owner, slots, lock, flat, clock
):
    held = [stay(runtime, owner, flat, ref, TODAY, 2)[0].id for ref in ("B1", "B2", "B3")]
    clock.advance(hours=5)
    reconcile(runtime)
    assert sorted(device(slots, lock)) == [4, 5, 6]
    with runtime.uow() as uow:  # their codes left before check-out, as a pass records it
        for grant_id in held:
            row = uow.session.get(LockCode, (grant_id, lock.id))
            row.desired = row.actual = "absent"
            row.provider_code_id = row.confirmed_version = None
        uow.commit()
    device(slots, lock).clear()
    clock.advance(days=2)  # the stays end with no pass of this lock to release their slots
    _next, code = stay(runtime, owner, flat, "B4", TODAY + timedelta(days=2), 2)
    reconcile(runtime)
    assert device(slots, lock) == {4: code}  # at once, not after a wait for room


def test_a_stay_confirmed_again_never_shares_the_slot_its_successor_took(
    runtime, owner, slots, lock, flat, clock
):
    first = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=3))
    clock.advance(hours=5)
    reconcile(runtime)
    cancel_reservation(runtime.uow(), owner, first.reservation.id)
    reconcile(runtime)
    _second, second_code = stay(runtime, owner, flat, "B2", TODAY, 3)
    reconcile(runtime)
    assert device(slots, lock) == {4: second_code}
    again = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=3))
    first_code = reveal_code(runtime.uow(), owner, again.grant.id)
    reconcile(runtime)
    reconcile(runtime)
    assert device(slots, lock) == {4: second_code, 5: first_code}


def test_a_pin_already_in_an_owners_slot_is_not_written_twice(
    runtime, owner, slots, lock, flat, clock
):
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    device(slots, lock)[1] = code  # the owner typed the same digits into a family slot
    clock.advance(hours=5)
    reconcile(runtime)
    assert device(slots, lock) == {1: code}
    assert set(statuses(runtime, grant.id).values()) == {"failed"}


def test_more_stays_than_slots_wait_for_room_without_touching_the_owners(
    runtime, owner, slots, clock
):
    lock = slot_lock(runtime, owner, slots, "Small door", size=8)  # doorcode owns 4-8
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    grants = [stay(runtime, owner, flat, f"B{n}", TODAY, 2)[0] for n in range(6)]
    clock.advance(hours=5)
    reconcile(runtime)
    assert sorted(device(slots, lock)) == [4, 5, 6, 7, 8]
    waiting = [g for g in grants if set(statuses(runtime, g.id).values()) != {"set"}]
    assert len(waiting) == 1


def test_a_lock_that_does_not_say_its_slot_count_is_not_written(runtime, owner, slots, clock):
    lock = make_lock(runtime, owner, "Mystery door", LockCapabilities(native_scheduling=False))
    slots.add(lock.external_id, SLOTS)
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert device(slots, lock) == {}
    with runtime.uow() as uow:
        error = uow.session.get(Lock, lock.id).sync_error
    assert "doorcode lock slots" in error


def test_a_keypad_opening_by_slot_belongs_to_whoever_held_the_slot_then(
    runtime, owner, slots, lock, flat, clock
):
    first, _ = stay(runtime, owner, flat, "B1", TODAY, 1)
    clock.advance(hours=5)
    reconcile(runtime)
    opened_at = clock()  # the first guest types their code at 14:00
    clock.advance(days=1)  # they have left: their code is cleared
    reconcile(runtime)
    second, _ = stay(runtime, owner, flat, "B2", TODAY + timedelta(days=1), 2)
    reconcile(runtime)
    assert slot_of(runtime, second.id, lock) == slot_of(runtime, first.id, lock) == 4
    late = AccessEvent(
        "evt-1", lock.external_id, opened_at, AccessOutcome.OPENED, AccessMethod.KEYPAD, "4"
    )
    now = AccessEvent(
        "evt-2", lock.external_id, clock(), AccessOutcome.OPENED, AccessMethod.KEYPAD, "4"
    )
    with runtime.uow() as uow:
        stored = uow.session.get(Lock, lock.id)
        record_events_of_lock(uow, stored, [late, now], AccessPolicy())
        uow.commit()
    with runtime.uow() as uow:
        query = select(AccessEventRow.event_id, AccessEventRow.grant_id)
        grants = {row.event_id: row.grant_id for row in uow.session.execute(query).all()}
    assert grants == {"evt-1": first.id, "evt-2": second.id}


@pytest.fixture
def gate(runtime, owner, slots):
    """A lock that is never read back: a listing shows only what this process wrote."""
    lock = slot_lock(runtime, owner, slots, "Gate", write_only=True)
    return lock, make_property(runtime, owner, "Yard flat", locks=[lock], time_zone="UTC")


def test_a_write_only_lock_loses_a_guests_code_at_check_out_even_after_a_restart(
    runtime, owner, slots, gate, clock
):
    lock, flat = gate
    _grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert device(slots, lock) == {4: code}
    slots.restart()  # the new process lists nothing: it wrote nothing yet
    clock.advance(days=2)  # past check-out
    reconcile(runtime)
    assert device(slots, lock) == {}


def test_a_write_only_lock_keeps_a_guests_code_across_a_restart_without_writing_it_again(
    runtime, owner, slots, gate, clock
):
    lock, flat = gate
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    writes = slots.radio["write"]
    slots.restart()
    clock.advance(hours=5)
    reconcile(runtime, force=True)
    assert device(slots, lock) == {4: code}
    assert slots.radio["write"] == writes
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_write_only_lock_gets_a_pin_changed_after_a_restart(runtime, owner, slots, gate, clock):
    lock, flat = gate
    grant, old_code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    slots.restart()
    regenerate_code(runtime.uow(), owner, grant.id)  # the guest shared theirs
    new_code = reveal_code(runtime.uow(), owner, grant.id)
    assert new_code != old_code
    reconcile(runtime, force=True)
    assert device(slots, lock) == {4: new_code}  # written over the old one, in its own slot
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_write_only_lock_loses_a_code_moved_to_a_later_stay_after_a_restart(
    runtime, owner, slots, gate, clock
):
    lock, flat = gate
    stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    assert sorted(device(slots, lock)) == [4]
    slots.restart()
    book(runtime, owner, flat, "B1", TODAY + timedelta(days=30), TODAY + timedelta(days=32))
    reconcile(runtime, force=True)
    assert device(slots, lock) == {}  # not left to open the door for a month


def test_a_write_only_lock_writes_again_a_code_only_accepted_before_a_restart(
    runtime, owner, slots, gate, clock
):
    lock, flat = gate
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    with runtime.uow() as uow:  # the back-end took the write; the lock never said it had it
        row = uow.session.get(LockCode, (grant.id, lock.id))
        row.accepted_version, row.confirmed_version = row.confirmed_version, None
        uow.commit()
    writes = slots.radio["write"]
    slots.restart()  # no read will ever confirm it now
    reconcile(runtime, force=True)
    assert slots.radio["write"] > writes
    assert device(slots, lock) == {4: code}
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_write_only_lock_clears_a_slot_reserved_by_a_process_killed_before_its_record(
    runtime, owner, slots, gate, clock
):
    lock, flat = gate
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 1)
    clock.advance(hours=5)
    slots.kill_after_write = True
    reconcile(runtime)  # the lock took the code; only the slot choice was recorded
    slots.kill_after_write = False
    slots.restart()
    clock.advance(days=1)  # the stay ended while doorcode was down
    reconcile(runtime, force=True)
    assert device(slots, lock) == {}
    assert slot_of(runtime, grant.id, lock) == 4
    writes = slots.radio["write"]
    reconcile(runtime, force=True)
    assert slots.radio["write"] == writes  # cleared once, not at every pass
    assert code


@pytest.mark.parametrize("failure", ["crash", "offline"])
def test_a_first_pass_that_fails_is_no_inventory_and_the_owners_codes_stay(
    runtime, owner, slots, lock, flat, clock, failure
):
    device(slots, lock)[9] = "222222"  # inside doorcode's range, set before doorcode came
    _grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    slots.kill_after_write = failure == "crash"  # the pass raises after the write
    slots.unreachable = failure == "offline"  # the listing fails
    reconcile(runtime)
    slots.kill_after_write = slots.unreachable = False
    reconcile(runtime, force=True)  # the first pass that completes: its inventory counts
    assert device(slots, lock) == {9: "222222", 4: code}
    clock.advance(hours=1)
    reconcile(runtime, force=True)
    assert device(slots, lock) == {9: "222222", 4: code}


def masked_stay(runtime, owner, slots, clock):
    """A masked lock holding a stay's code in slot 4: (lock, grant, its code)."""
    lock = slot_lock(runtime, owner, slots, "Back door", masked=True)
    flat = make_property(runtime, owner, "Flat", locks=[lock], time_zone="UTC")
    grant, code = stay(runtime, owner, flat, "B1", TODAY, 2)
    clock.advance(hours=5)
    reconcile(runtime)
    return lock, grant, code


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "restarted"])
def test_a_masked_lock_gets_a_regenerated_pin_in_the_grants_slot(
    runtime, owner, slots, clock, restart
):
    lock, grant, old_code = masked_stay(runtime, owner, slots, clock)
    assert device(slots, lock) == {4: old_code}
    regenerate_code(runtime.uow(), owner, grant.id)  # the guest shared theirs
    new_code = reveal_code(runtime.uow(), owner, grant.id)
    assert new_code != old_code
    if restart:
        slots.restart()  # a new process: only the database remembers what was written
    reconcile(runtime)
    # The listing shows slot 4 occupied but not its digits: only the record of what was
    # written there says the old PIN is stale.
    assert device(slots, lock) == {4: new_code}
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_masked_lock_killed_between_writing_a_new_pin_and_its_record_writes_it_once(
    runtime, owner, slots, clock
):
    lock, grant, _old_code = masked_stay(runtime, owner, slots, clock)
    regenerate_code(runtime.uow(), owner, grant.id)
    new_code = reveal_code(runtime.uow(), owner, grant.id)
    slots.kill_after_write = True
    reconcile(runtime)  # the old code cleared, the new one written, nothing more recorded
    slots.kill_after_write = False
    assert device(slots, lock) == {4: new_code}
    writes = slots.radio["write"]
    reconcile(runtime, force=True)
    assert device(slots, lock) == {4: new_code}
    assert slots.radio["write"] == writes
    assert set(statuses(runtime, grant.id).values()) == {"set"}


def test_a_masked_code_whose_written_pin_was_never_recorded_is_written_once_more(
    runtime, owner, slots, clock
):
    lock, grant, code = masked_stay(runtime, owner, slots, clock)
    device(slots, lock)[4] = "000000"  # an old PIN, as a lock synced before the record kept
    with runtime.uow() as uow:
        uow.session.get(LockCode, (grant.id, lock.id)).written_code_token = None
        uow.commit()
    reconcile(runtime, force=True)
    assert device(slots, lock) == {4: code}
    writes = slots.radio["write"]
    reconcile(runtime, force=True)
    assert slots.radio["write"] == writes  # known from now on
