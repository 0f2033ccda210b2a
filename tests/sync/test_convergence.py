"""Convergence under faults: a seeded random week of bookings, failures and hand deletions.

Twenty-four locks of four kinds (small memories, locks without scheduling, a keypad without an
enter key, PINs of four and six digits) serve eighteen flats in six buildings; some three
hundred grants come and go. For four days the virtual cloud fails 30 % of calls, times out
(sometimes after making the change), answers 429, drops locks offline for half an hour and
loses codes to people at the keypad, while bookings are cancelled, moved and added. Time
passes the way the runner lets it: from one lock's next change instant to the next, with a
sweep every three hours.

Throughout, no lock ever holds a grant twice or a PIN twice. Once the faults stop (and the
longest backoff has run out), at every instant checked each lock holds exactly the codes the
planner wants, and none of them outside its lead-time-to-end interval.
"""

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from random import Random

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from doorcode.domain.errors import CodeClash
from doorcode.domain.grants import GrantKind
from doorcode.domain.lead_times import LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.planner import GrantOnLock, plan_lock
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow
from doorcode.locks.tags import grant_id_from_tag
from doorcode.locks.virtual import Faults
from doorcode.services.grants import ManualGrantRequest, create_manual_grant, reveal_code
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    cancel_reservation,
    record_reservation,
)
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import Event, Grant, Lock, LockCode
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import make_owner
from tests.sync.helpers import cloud_of

START = datetime(2026, 11, 23, 9, tzinfo=UTC)
FIRST_NIGHT = date(2026, 11, 23)
FAULTS = Faults(
    failure_rate=0.30,
    timeout_rate=0.08,
    rate_limit_rate=0.05,
    retry_after=timedelta(seconds=45),
    offline_rate=0.03,
    offline_for=timedelta(minutes=30),
    hand_delete_rate=0.03,
)
FLAT_DOORS = [
    LockCapabilities(max_codes=2),
    LockCapabilities(native_scheduling=False),
    LockCapabilities(native_scheduling=False, max_codes=2),
]
STREET_DOORS = [
    LockCapabilities(max_codes=6),
    LockCapabilities(native_scheduling=False, max_codes=5),
    LockCapabilities(enter_key=False),
]
SWEEP = timedelta(hours=3)


class World:
    def __init__(self, runtime, clock, seed):
        self.runtime, self.clock, self.rng = runtime, clock, Random(seed)
        self.owner = make_owner(runtime)
        self.flats, self.bookings, self.street_doors = [], {}, []
        self._build()

    def _build(self):
        for building in range(6):
            street = self._lock(f"Street {building}", STREET_DOORS[building % 3])
            self.street_doors.append(street)
            for unit in range(3):
                door = self._lock(f"Flat {building}.{unit}", FLAT_DOORS[(building + unit) % 3])
                length = 4 if building == 2 and unit == 0 else 6
                details = PropertyDetails(f"Flat {building}.{unit}", "UTC", code_length=length)
                prop = add_property(self.runtime.uow(), self.owner, details)
                for lock in (street, door):
                    link_lock(self.runtime.uow(), self.owner, prop.id, lock.id)
                self.flats.append(prop)
                self._book_season(prop)
            self._cleaners(street)
        install_virtual_locks(self.runtime)
        for number, lock in enumerate(self.all_locks()):
            cloud_of(self.runtime).install(
                lock.external_id,
                lock.name,
                capabilities_from_json(lock.capabilities),
                refuses_duplicates=number % 2 == 0,
            )

    def _lock(self, name, capabilities):
        return add_lock(
            self.runtime.uow(), self.owner, LockDetails(name, capabilities=capabilities)
        )

    def _book_season(self, prop):
        day = self.rng.randrange(-2, 1)
        while day < 24:
            nights = self.rng.randint(1, 4)
            self.book(prop, day, nights)
            day += nights + self.rng.choice([0, 0, 1, 2])

    def book(self, prop, first, nights, external_id=None):
        external_id = external_id or f"R{len(self.bookings)}"
        check_in = FIRST_NIGHT + timedelta(days=first)
        details = ReservationDetails(
            "sim",
            external_id,
            prop.id,
            ReservationStatus.CONFIRMED,
            Stay(check_in, check_in + timedelta(days=nights)),
            Guest(name=f"guest {external_id}"),
        )
        outcome = record_reservation(self.runtime.uow(), self.owner, details)
        self.bookings[external_id] = (prop, outcome.reservation.id, first, nights)
        return outcome

    def _cleaners(self, street):
        for day in range(20):
            starts = START + timedelta(days=day, hours=1)
            window = TimeWindow(starts, starts + timedelta(hours=4))
            request = ManualGrantRequest(
                GrantKind.STAFF, "cleaner", window, lock_refs=(street.id,), code_length=6
            )
            create_manual_grant(self.runtime.uow(), self.owner, request)

    def all_locks(self):
        with self.runtime.uow() as uow:
            return list(uow.session.scalars(select(Lock)))

    def mutate(self):
        """A booking is cancelled, moved, or added, or a PIN is reused back to back."""
        choice = self.rng.random()
        external_id = self.rng.choice(sorted(self.bookings))
        prop, reservation_id, first, nights = self.bookings[external_id]
        if choice < 0.3:
            cancel_reservation(self.runtime.uow(), self.owner, reservation_id)
        elif choice < 0.6:
            self.book(prop, first + self.rng.choice([-1, 1]), nights, external_id)
        elif choice < 0.8:
            self.book(self.rng.choice(self.flats), self.rng.randrange(3, 10), 1)
        else:
            self._same_pin_right_after(external_id)

    def _same_pin_right_after(self, external_id):
        prop, reservation_id, _, _ = self.bookings[external_id]
        with self.runtime.uow() as uow:
            grant = uow.grants.guest_grant_of(reservation_id)
        if grant is None or grant.revoked_at is not None or grant.ends_at <= self.clock.now:
            return
        code = reveal_code(self.runtime.uow(), self.owner, grant.id)
        window = TimeWindow(grant.ends_at, grant.ends_at + timedelta(hours=3))
        request = ManualGrantRequest(
            GrantKind.MANUAL, "same PIN", window, property_ref=prop.id, code=code
        )
        with contextlib.suppress(CodeClash):  # someone else holds it then: nothing to test
            create_manual_grant(self.runtime.uow(), self.owner, request)


def expected_codes(runtime, now):
    """lock external id -> grant ids the planner wants there now (no codes set by hand here)."""
    with runtime.uow() as uow:
        grants = uow.session.scalars(select(Grant).options(selectinload(Grant.lock_codes)))
        per_lock = {lock.id: (lock, []) for lock in uow.session.scalars(select(Lock))}
        for grant in grants:
            code = uow.grants.code_of(grant)
            for lock_code in grant.lock_codes:
                per_lock[lock_code.lock_id][1].append(
                    GrantOnLock(
                        grant.id,
                        TimeWindow(grant.starts_at, grant.ends_at),
                        grant.version,
                        code,
                        grant.revoked_at,
                        LeadTimes(),
                        spare=grant.kind == "backup" and grant.reservation_id is None,
                    )
                )
    return {
        lock.external_id: sorted(
            code.grant_id
            for code in plan_lock(on_lock, capabilities_from_json(lock.capabilities), now).desired
        )
        for lock, on_lock in per_lock.values()
    }


def assert_no_duplicates(runtime):
    cloud = cloud_of(runtime)
    for lock in locks_of(runtime):
        codes = cloud.codes_on(lock.external_id)
        tags = Counter(grant_id_from_tag(code.name) for code in codes)
        pins = Counter(code.code for code in codes)
        assert max(tags.values(), default=1) == 1, f"a grant twice on {lock.name}"
        assert max(pins.values(), default=1) == 1, f"a PIN twice on {lock.name}"


def locks_of(runtime):
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(Lock)))


def assert_exactly_desired_and_within_intervals(runtime, now):
    expected = expected_codes(runtime, now)
    cloud = cloud_of(runtime)
    with runtime.uow() as uow:
        grants = {grant.id: grant for grant in uow.session.scalars(select(Grant))}
    for lock in locks_of(runtime):
        capabilities = capabilities_from_json(lock.capabilities)
        lead = LeadTimes().for_lock(capabilities)
        held = sorted(grant_id_from_tag(code.name) for code in cloud.codes_on(lock.external_id))
        assert held == expected[lock.external_id], f"{lock.name} at {now}"
        for grant_id in held:
            grant = grants[grant_id]
            assert grant.revoked_at is None
            assert grant.starts_at - lead <= now < grant.ends_at


def drive(runtime, reconciler, clock, until, *, on_step=lambda: None, events=()):
    """Let time pass as the runner would: due instants, grant changes, periodic sweeps."""
    events = sorted(events)
    next_sweep = clock.now
    steps = 0
    while clock.now < until:
        while events and events[0][0] <= clock.now:
            events.pop(0)[1]()
        if clock.now >= next_sweep:
            lock_ids = reconciler.every_lock()
            next_sweep = clock.now + SWEEP
        else:
            lock_ids = reconciler.pending()
        if lock_ids:
            asyncio.run(reconciler.reconcile(lock_ids))
        on_step()
        steps += 1
        due = reconciler.next_due()
        upcoming = [until, next_sweep] + [at for at, _ in events[:1]]
        if due is not None and due > clock.now:
            upcoming.append(due)
        clock.now = max(min(upcoming), clock.now + timedelta(seconds=1))
    return steps


# One seeded week. A second seed (7) used to run too: measured with coverage (branch), it
# reached no line and no branch of src/doorcode that this seed misses (this one reaches 9
# branches that seed 7 does not), and it asserted the same invariants, at 20 s a run. Fresh
# fault sequences come from the fault-and-kill soak, which draws a new seed every run.
SEED = 20261123


@pytest.mark.slow
def test_every_lock_converges_to_exactly_its_codes_once_the_faults_stop(runtime, clock):
    world = World(runtime, clock, SEED)
    cloud = cloud_of(runtime)
    reconciler = Reconciler.from_runtime(runtime)
    mutations = [(START + timedelta(hours=hours), world.mutate) for hours in range(2, 96, 5)]
    cloud.faults = FAULTS
    faulty_steps = drive(
        runtime,
        reconciler,
        clock,
        START + timedelta(days=4),
        on_step=lambda: assert_no_duplicates(runtime),
        events=mutations,
    )
    cloud.faults = Faults()
    drive(runtime, reconciler, clock, clock.now + timedelta(hours=3))
    checked = []

    def check():
        assert_no_duplicates(runtime)
        assert_exactly_desired_and_within_intervals(runtime, clock.now)
        checked.append(clock.now)

    drive(runtime, reconciler, clock, clock.now + timedelta(days=6), on_step=check)
    with runtime.uow() as uow:
        grant_count = uow.session.scalar(select(func.count()).select_from(Grant))
        kinds = Counter(uow.session.scalars(select(Event.kind)))
        waited = uow.session.scalar(
            select(func.count()).where(LockCode.wait_reason.in_(["space", "code_in_use"]))
        )
    print(grant_count, faulty_steps, len(checked), waited, dict(kinds))
    assert grant_count >= 200
    assert faulty_steps > 300
    assert len(checked) > 50
    assert min(kinds["LockCodeFailed"], kinds["LockSyncFailed"], kinds["LockCodeAdopted"]) > 0
