"""One poisoned lock never stops another lock's pass: its failure is recorded on it, alerted,
and retried, while every healthy lock converges in the same pass."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.locks.errors import RateLimited
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.grants import ManualGrantRequest, create_manual_grant
from doorcode.store.models import Alert, Grant, Lock
from doorcode.sync.reconciler import LOCK_SYNC_CRASHED, Reconciler
from tests.builders import book, make_owner, make_property
from tests.sync.helpers import CountingProvider, grants_on, reconcile, statuses

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


@pytest.fixture
def two_flats(runtime, owner):
    poisoned = make_property(runtime, owner, "Poisoned", time_zone="UTC")
    healthy = make_property(runtime, owner, "Healthy", time_zone="UTC")
    return poisoned, healthy


def lock_of(runtime, prop) -> Lock:
    with runtime.uow() as uow:
        return uow.session.scalars(select(Lock).where(Lock.name == f"{prop.name} door")).one()


def open_alerts(runtime, kind=LOCK_SYNC_CRASHED):
    with runtime.uow() as uow:
        query = select(Alert.subject_id).where(Alert.kind == kind, Alert.cleared_at.is_(None))
        return list(uow.session.scalars(query))


def legacy_grant(runtime, owner, prop, **extreme):
    """A grant stored before instants were bounded: today's services refuse to make one."""
    starts = datetime(2026, 11, 23, 10, tzinfo=UTC)
    request = ManualGrantRequest(
        GrantKind.MANUAL,
        "legacy",
        TimeWindow(starts, starts + timedelta(hours=4)),
        property_ref=prop.id,
    )
    grant = create_manual_grant(runtime.uow(), owner, request)
    with runtime.uow() as uow:
        uow.session.execute(update(Grant).where(Grant.id == grant.id).values(**extreme))
        uow.commit()
    return grant


@pytest.mark.parametrize(
    "extreme",
    [
        {"starts_at": datetime(1, 1, 1, tzinfo=UTC)},
        {"ends_at": datetime(9999, 12, 31, 23, 59, 30, tzinfo=UTC)},
    ],
    ids=["starts-in-year-1", "ends-in-9999"],
)
def test_a_lock_with_an_extreme_grant_never_stops_a_healthy_lock(
    runtime, owner, two_flats, extreme
):
    poisoned, healthy = two_flats
    legacy_grant(runtime, owner, poisoned, **extreme)
    guest = book(runtime, owner, healthy, "B1", TODAY, TODAY + timedelta(days=2)).grant

    reconcile(runtime)  # raised OverflowError for the whole batch before

    assert grants_on(runtime, lock_of(runtime, healthy)) == [guest.id]
    assert set(statuses(runtime, guest.id).values()) == {"set"}
    bad = lock_of(runtime, poisoned)
    assert bad.sync_error.startswith("the pass failed unexpectedly (")
    assert bad.sync_retry_at is not None
    assert bad.next_sync_at is not None
    assert open_alerts(runtime) == [bad.id]


class BrokenForOneDevice(CountingProvider):
    """A back-end adapter with a bug that shows on one device only."""

    def __init__(self, inner, broken):
        super().__init__(inner)
        self.broken = broken

    async def list_codes(self, device_id):
        if device_id == self.broken:
            raise KeyError("pin 123456")  # a bug whose text quotes what it should not
        return await super().list_codes(device_id)


def test_a_bug_on_one_device_is_recorded_alerted_retried_and_cleared(
    runtime, owner, two_flats, clock, caplog
):
    poisoned, healthy = two_flats
    reconcile(runtime)  # providers installed
    bad = lock_of(runtime, poisoned)
    broken = BrokenForOneDevice(runtime.providers.shared("virtual"), bad.external_id)
    runtime.providers = ProviderRegistry([broken])
    first = book(runtime, owner, poisoned, "P1", TODAY, TODAY + timedelta(days=2)).grant
    second = book(runtime, owner, healthy, "H1", TODAY, TODAY + timedelta(days=2)).grant

    reconcile(runtime)

    assert set(statuses(runtime, second.id).values()) == {"set"}
    assert lock_of(runtime, poisoned).sync_error == "the pass failed unexpectedly (KeyError)"
    assert open_alerts(runtime) == [bad.id]
    assert "123456" not in caplog.text
    assert "KeyError" in caplog.text

    reconcile(runtime)  # backing off: still alerted, no second alert
    assert open_alerts(runtime) == [bad.id]

    broken.broken = None  # the bug is fixed
    clock.advance(hours=2)
    reconcile(runtime)
    assert set(statuses(runtime, first.id).values()) == {"set"}
    assert lock_of(runtime, poisoned).sync_error is None
    assert open_alerts(runtime) == []


class RateLimitedForOneDevice(CountingProvider):
    """A back-end that answers one device's listing with a 429 (Retry-After 30 s)."""

    def __init__(self, inner, limited):
        super().__init__(inner)
        self.limited = limited

    async def list_codes(self, device_id):
        if device_id == self.limited:
            raise RateLimited("too many requests", retry_after=timedelta(seconds=30))
        return await super().list_codes(device_id)


def test_a_429_on_a_lock_that_failed_before_pauses_the_back_end_only_for_its_retry_after(
    runtime, owner, two_flats, clock
):
    """The pause of the whole back-end was the unlucky lock's own backoff (up to 15 min):
    every other lock stood still, rows "setting" with 0 attempts and no error."""
    unlucky, other = two_flats
    reconcile(runtime)
    bad = lock_of(runtime, unlucky)
    with runtime.uow() as uow:  # the lock's listing had failed five times in a row
        uow.session.execute(update(Lock).where(Lock.id == bad.id).values(sync_attempts=5))
        uow.commit()
    runtime.providers = ProviderRegistry(
        [RateLimitedForOneDevice(runtime.providers.shared("virtual"), bad.external_id)]
    )
    reconciler = Reconciler.from_runtime(runtime)  # one process: one rate limiter
    reconcile(runtime, [bad.id], reconciler=reconciler)
    guest = book(runtime, owner, other, "H1", TODAY, TODAY + timedelta(days=2)).grant
    clock.advance(seconds=31)  # the back-end asked for 30 s
    (outcome,) = reconcile(runtime, [lock_of(runtime, other).id], reconciler=reconciler)
    assert outcome.skipped is None
    assert set(statuses(runtime, guest.id).values()) == {"set"}
    assert lock_of(runtime, unlucky).sync_retry_at > clock.now  # the unlucky lock backs off


def test_locks_skipped_longest_go_first_so_none_starves_behind_the_others(
    runtime, owner, two_flats, clock
):
    """Passes ran in id order, so under a stream of 429s the same locks were always skipped."""
    reconcile(runtime)
    ids = sorted(lock_of(runtime, prop).id for prop in two_flats)
    with runtime.uow() as uow:  # the later id was visited an hour before the first
        for lock_id, ago in zip(ids, (0, 60), strict=True):
            visited = clock.now - timedelta(minutes=ago)
            uow.session.execute(
                update(Lock)
                .where(Lock.id == lock_id)
                .values(synced_at=visited, next_sync_at=clock.now)
            )
        uow.commit()
    reconciler = Reconciler.from_runtime(runtime)
    assert reconciler.pending() == ids[::-1]
    assert reconciler.every_lock() == ids[::-1]
    with runtime.uow() as uow:
        loaded = uow.lock_sync.load(ids[::-1], clock.now)
    assert [lock.id for lock in loaded] == ids[::-1]
