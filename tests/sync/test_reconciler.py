"""The reconciler makes each lock hold exactly its desired codes, and records how it went."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import RateLimits
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.tags import tag_for
from doorcode.locks.virtual import Faults, VirtualCloud, VirtualLockProvider
from doorcode.services.grants import reveal_code, revoke_grant
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import Alert, Event, Lock
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import (
    CountingProvider,
    cloud_of,
    event_kinds,
    grants_on,
    reconcile,
    row_of,
    statuses,
)

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


@pytest.fixture
def flat(runtime, owner):
    street = make_lock(runtime, owner, "Street door", LockCapabilities(max_codes=3))
    door = make_lock(runtime, owner, "Flat door", LockCapabilities(native_scheduling=False))
    return make_property(runtime, owner, "Flat", locks=[street, door], time_zone="UTC")


def locks_of(flat):
    return {lock.name: lock for lock in flat.locks}


def test_a_booking_gets_its_code_on_every_lock_and_is_announced_once(runtime, owner, flat, clock):
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    code = reveal_code(runtime.uow(), owner, grant.id)
    clock.advance(hours=5)  # 14:00, an hour before check-in
    reconcile(runtime)
    street, door = locks_of(flat)["Street door"], locks_of(flat)["Flat door"]
    [on_street] = cloud_of(runtime).codes_on(street.external_id)
    [on_door] = cloud_of(runtime).codes_on(door.external_id)
    assert (on_street.name, on_street.code) == (tag_for(grant.id), code)
    assert on_street.starts_at == datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert (on_door.code, on_door.starts_at) == (code, None)
    assert set(statuses(runtime, grant.id).values()) == {"set"}
    reconcile(runtime)
    kinds = event_kinds(runtime, grant.id)
    assert (kinds["LockCodeCreated"], kinds["GrantCodesSet"]) == (2, 1)


def test_a_lock_already_right_gets_only_a_listing(runtime, owner, flat):
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    reconcile(runtime)
    counting = CountingProvider(runtime.providers.shared("virtual"))
    runtime.providers = ProviderRegistry([counting])
    events = sum(event_kinds(runtime).values())
    outcomes = reconcile(runtime)
    assert counting.calls == {"list_codes": 2}
    assert [outcome.summary for outcome in outcomes] == ["in sync", "in sync"]
    assert sum(event_kinds(runtime).values()) == events


def test_a_code_waits_for_its_lead_time_and_the_lock_knows_when(runtime, owner, flat):
    grant = book(runtime, owner, flat, "B1", TODAY + timedelta(days=5), TODAY + timedelta(days=7))
    reconcile(runtime)
    assert set(statuses(runtime, grant.grant.id).values()) == {"waiting_for_lead_time"}
    with runtime.uow() as uow:
        due = {lock.name: lock.next_sync_at for lock in uow.session.scalars(select(Lock))}
    start = datetime(2026, 11, 28, 15, tzinfo=UTC)
    assert due == {
        "Street door": start - timedelta(hours=72),
        "Flat door": start - timedelta(hours=1),
    }


def test_cancelling_takes_the_code_off_every_lock(runtime, owner, flat, clock):
    outcome = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    clock.advance(hours=6)
    reconcile(runtime)
    cancel_reservation(runtime.uow(), owner, outcome.reservation.id)
    reconcile(runtime)
    assert all(grants_on(runtime, lock) == [] for lock in flat.locks)
    assert set(statuses(runtime, outcome.grant.id).values()) == {"removed"}
    assert event_kinds(runtime, outcome.grant.id)["LockCodeDeleted"] == 2


def test_codes_set_by_hand_are_reported_once_and_left_alone(runtime, owner, flat):
    street = locks_of(flat)["Street door"]
    reconcile(runtime)
    hand = cloud_of(runtime).add_by_hand(street.external_id, "Grandma", "135791")
    reconcile(runtime)
    reconcile(runtime)
    assert [code.code_id for code in cloud_of(runtime).codes_on(street.external_id)] == [hand]
    assert event_kinds(runtime, street.id)["UnmanagedCodeFound"] == 1
    with runtime.uow() as uow:
        assert uow.session.get(Lock, street.id).unmanaged_codes == [hand]


def test_a_code_changed_or_deleted_by_hand_is_put_back(runtime, owner, flat, clock):
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    clock.advance(hours=6)
    code = reveal_code(runtime.uow(), owner, grant.id)
    street, door = locks_of(flat)["Street door"], locks_of(flat)["Flat door"]
    reconcile(runtime)
    cloud = cloud_of(runtime)
    [on_street] = cloud.codes_on(street.external_id)
    moved = TimeWindow(on_street.starts_at + timedelta(days=1), on_street.ends_at)
    cloud.change_by_hand(street.external_id, on_street.code_id, window=moved)
    [on_door] = cloud.codes_on(door.external_id)
    cloud.change_by_hand(door.external_id, on_door.code_id, code="999999")
    reconcile(runtime)
    [street_now] = cloud.codes_on(street.external_id)
    assert street_now.starts_at == on_street.starts_at
    [door_now] = cloud.codes_on(door.external_id)
    assert door_now.code == code
    cloud.delete_by_hand(door.external_id, door_now.code_id)
    reconcile(runtime)
    assert grants_on(runtime, door) == [grant.id]
    reasons = [e.reason for e in events_of(runtime, grant.id, "LockCodeCreated", "LockCodeUpdated")]
    assert "put back: its window was changed at the lock" in reasons
    assert "put back: its code was changed at the lock" in reasons
    assert "put back: it was deleted at the lock" in reasons


def events_of(runtime, subject_id, *kinds):
    with runtime.uow() as uow:
        query = select(Event).where(Event.subject_id == subject_id, Event.kind.in_(kinds))
        return list(uow.session.scalars(query))


def test_a_tagged_code_whose_grant_is_gone_is_removed(runtime, owner, flat):
    street = locks_of(flat)["Street door"]
    cloud_of(runtime).install(street.external_id, street.name, LockCapabilities())
    cloud_of(runtime).add_by_hand(street.external_id, tag_for("grt_vanished"), "246813")
    assert grants_on(runtime, street) == ["grt_vanished"]  # else "removed" would prove nothing
    reconcile(runtime)
    assert grants_on(runtime, street) == []
    [deleted] = events_of(runtime, "grt_vanished", "LockCodeDeleted")
    assert (deleted.reason, deleted.details["lock_id"]) == ("no longer wanted", street.id)


def test_a_failing_cloud_is_recorded_without_codes_backed_off_then_repaired(
    runtime, owner, flat, clock
):
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    code = reveal_code(runtime.uow(), owner, grant.id)
    street = locks_of(flat)["Street door"]
    reconcile(runtime)
    cloud = cloud_of(runtime)
    for stored in cloud.codes_on(street.external_id):
        cloud.delete_by_hand(street.external_id, stored.code_id)
    cloud.faults = Faults(failure_rate=1.0)
    reconcile(runtime)
    cloud.faults = Faults(rate_limit_rate=0.0)
    row = row_of(runtime, grant.id, street.id)
    assert (row.attempts, row.last_error) == (0, None)  # the listing failed: lock-wide
    with runtime.uow() as uow:
        lock = uow.session.get(Lock, street.id)
    assert lock.sync_error == "the lock cloud answered 503"
    assert lock.sync_retry_at > clock.now
    assert reconcile(runtime, [street.id])[0].skipped == "backing off after the last failure"
    clock.now = lock.sync_retry_at
    reconcile(runtime, [street.id])
    assert statuses(runtime, grant.id)[street.id] == "set"
    assert all(
        code not in str(e.reason) + str(e.details)
        for e in events_of(runtime, street.id, "LockSyncFailed")
    )
    assert event_kinds(runtime, street.id)["LockSyncRecovered"] == 1


def test_a_code_refused_by_the_lock_fails_with_its_reason_and_waits_before_trying_again(
    runtime, owner, flat, clock
):
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    code = reveal_code(runtime.uow(), owner, grant.id)
    clock.advance(hours=6)
    door = locks_of(flat)["Flat door"]
    cloud = cloud_of(runtime)
    four_digits_only = LockCapabilities(native_scheduling=False, code_lengths=frozenset({4}))
    cloud.install(door.external_id, door.name, four_digits_only)
    counting = CountingProvider(runtime.providers.shared("virtual"))
    runtime.providers = ProviderRegistry([counting])
    reconcile(runtime, [door.id])
    row = row_of(runtime, grant.id, door.id)
    assert (row.attempts, row.last_error) == (1, "the lock does not take 6-symbol codes")
    assert code not in row.last_error
    assert statuses(runtime, grant.id)[door.id] == "failed"
    reconcile(runtime, [door.id])
    assert counting.calls["create_code"] == 1
    clock.now = row.next_attempt_at
    reconcile(runtime, [door.id])
    assert (counting.calls["create_code"], row_of(runtime, grant.id, door.id).attempts) == (2, 2)


def test_a_pin_the_owner_set_by_hand_is_never_duplicated(runtime, owner, flat, clock):
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    code = reveal_code(runtime.uow(), owner, grant.id)
    clock.advance(hours=6)
    door = locks_of(flat)["Flat door"]
    cloud = cloud_of(runtime)
    cloud.install(door.external_id, door.name, LockCapabilities(native_scheduling=False))
    cloud.add_by_hand(door.external_id, "Neighbour", code)
    reconcile(runtime, [door.id])
    assert [c.name for c in cloud.codes_on(door.external_id)] == ["Neighbour"]
    row = row_of(runtime, grant.id, door.id)
    assert row.last_error == "a code set by hand on the lock has the same digits"


def test_an_offline_code_lock_is_reported_not_programmed(runtime, owner):
    cabin = make_lock(
        runtime,
        owner,
        "Cabin",
        LockCapabilities(online=False, native_scheduling=False, offline_codes=True),
    )
    prop = make_property(runtime, owner, "Cabin", locks=[cabin], time_zone="UTC")
    grant = book(runtime, owner, prop, "B1", TODAY, TODAY + timedelta(days=2)).grant
    [outcome] = reconcile(runtime)
    assert outcome.skipped == "not programmable online"
    assert statuses(runtime, grant.id) == {cabin.id: "not_programmable"}
    assert cloud_of(runtime).codes_on(cabin.external_id) == []


def test_a_full_lock_alerts_for_a_guest_arriving_without_a_code_until_there_is_room(
    runtime, owner, clock
):
    tiny = make_lock(runtime, owner, "Tiny", LockCapabilities(max_codes=1))
    prop = make_property(runtime, owner, "Tiny flat", locks=[tiny], time_zone="UTC")
    first = book(runtime, owner, prop, "B1", TODAY - timedelta(days=1), TODAY).grant
    second = book(runtime, owner, prop, "B2", TODAY, TODAY + timedelta(days=1)).grant
    reconcile(runtime)
    assert statuses(runtime, second.id) == {tiny.id: "waiting_for_space"}
    with runtime.uow() as uow:
        [alert] = uow.session.scalars(select(Alert))
    assert alert.subject_id == second.id
    assert "Tiny (waiting for space)" in alert.message
    clock.now = datetime(2026, 11, 23, 11, tzinfo=UTC)  # the first guest leaves
    reconcile(runtime)
    assert grants_on(runtime, tiny) == [second.id]
    with runtime.uow() as uow:
        assert uow.session.get(Alert, alert.id).cleared_at == clock.now
    assert event_kinds(runtime, second.id)["AlertCleared"] == 1
    assert first.id not in grants_on(runtime, tiny)


def test_a_429_pauses_the_whole_provider_for_its_retry_after(runtime, owner, flat, clock):
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2))
    cloud_of(runtime).faults = Faults(rate_limit_rate=1.0, retry_after=timedelta(minutes=3))
    reconciler = reconcile_with(runtime)
    first, second = reconcile(runtime, reconciler=reconciler)
    assert first.error == "too many requests"
    assert second.skipped == "virtual asked us to wait"
    assert second.next_sync_at >= clock.now + timedelta(minutes=3)


def reconcile_with(runtime):
    from doorcode.sync.reconciler import Reconciler

    return Reconciler.from_runtime(runtime)


def test_creations_keep_to_the_providers_per_device_rate(runtime, owner, clock):
    cloud = VirtualCloud(clock, rng=Random(1))
    runtime.providers = ProviderRegistry(
        [VirtualLockProvider(cloud, rate_limits=RateLimits(creates_per_device=2))]
    )
    lock = make_lock(runtime, owner, "Busy door")
    grants = [grant_for(runtime, owner, lock, hours) for hours in (1, 2, 3)]
    [outcome] = reconcile(runtime)
    assert outcome.created == 2
    assert outcome.next_sync_at == clock.now + timedelta(minutes=1)
    clock.advance(minutes=1)
    reconcile(runtime)
    assert grants_on(runtime, lock) == sorted(g.id for g in grants)


def grant_for(runtime, owner, lock, hours):
    from doorcode.domain.grants import GrantKind
    from doorcode.services.grants import ManualGrantRequest, create_manual_grant

    starts = datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(hours=hours)
    window = TimeWindow(starts, starts + timedelta(hours=2))
    request = ManualGrantRequest(GrantKind.STAFF, "Cleaner", window, lock_refs=(lock.id,))
    return create_manual_grant(runtime.uow(), owner, request)


def test_revoking_removes_the_code_and_never_touches_other_locks(runtime, owner, flat, clock):
    other = make_property(runtime, owner, "Other", time_zone="UTC")
    kept = book(runtime, owner, other, "B2", TODAY, TODAY + timedelta(days=2)).grant
    gone = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    clock.advance(hours=6)  # 15:00, check-in: past the Flat door's one-hour lead time too
    reconcile(runtime)
    # The code must be on both locks first, or "gone after revoking" would prove nothing.
    assert all(gone.id in grants_on(runtime, lock) for lock in flat.locks)
    revoke_grant(runtime.uow(), owner, gone.id, "guest asked")
    reconcile(runtime)
    assert grants_on(runtime, other.locks[0]) == [kept.id]
    assert all(grants_on(runtime, lock) == [] for lock in flat.locks)


def test_a_pass_never_leaves_its_lock_due_at_or_before_its_own_now(
    runtime, owner, flat, clock, monkeypatch
):
    """Were the plan ever to name a past instant, the runners would wake the lock at once and
    compute it again, forever: the pass drops it and leaves the lock to the sweep."""
    from doorcode.sync import lock_pass

    planned = lock_pass.plan_lock

    def stale(*args, **kwargs):
        past = clock.now - timedelta(minutes=1)
        return dataclasses.replace(planned(*args, **kwargs), next_change_at=past)

    monkeypatch.setattr(lock_pass, "plan_lock", stale)
    book(runtime, owner, flat, "B-1", date(2026, 11, 23), date(2026, 11, 25))
    [outcome, *_] = reconcile(runtime)
    assert outcome.next_sync_at is None or outcome.next_sync_at > clock.now
    with runtime.uow() as uow:
        due = [lock.next_sync_at for lock in uow.session.scalars(select(Lock))]
    assert all(instant is None or instant > clock.now for instant in due)


class ReplacingProvider(VirtualLockProvider):
    """A cloud that cannot change a code's window in place: a move is a delete and a create."""

    abilities = dataclasses.replace(VirtualLockProvider.abilities, update_in_place=False)


def test_a_window_moved_on_a_lock_that_cannot_update_is_a_deletion_of_the_grants_code(
    runtime, owner, flat
):
    runtime.providers = ProviderRegistry([ReplacingProvider(cloud_of(runtime))])
    street = locks_of(flat)["Street door"]
    grant = book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    reconcile(runtime)
    [before] = cloud_of(runtime).codes_on(street.external_id)
    book(runtime, owner, flat, "B1", TODAY, TODAY + timedelta(days=3))  # a night longer
    reconcile(runtime)
    [after] = cloud_of(runtime).codes_on(street.external_id)
    assert after.ends_at == datetime(2026, 11, 26, 11, tzinfo=UTC)
    assert after.code_id != before.code_id
    [deleted] = events_of(runtime, grant.id, "LockCodeDeleted")
    assert (deleted.reason, deleted.details["lock_id"]) == ("the window moved", street.id)
    assert grants_on(runtime, street) == [grant.id]
