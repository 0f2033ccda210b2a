"""Lock sync at scale: 10,000 locks, 200,000 reservations over a year, the virtual provider.

Prints, on SQLite (the embedded default) with a zero-latency virtual cloud:

  * the cold sweep: the first pass over every lock of a database that was never reconciled
    (every lock code is visited once, codes inside their lead time are created);
  * the warm sweep: the periodic re-check once everything is in sync (the ≤ 10 s target);
  * where a warm sweep's time goes (loading, per-lock passes, recording);
  * peak memory: the process's maximum RSS, and the Python heap of one sweep (tracemalloc,
    measured in a separate sweep because tracing slows everything down);
  * one reservation change: the service call (with code allocation), how many locks it
    touches, and the pass over just those locks.

The world is written with bulk inserts (the services would take an hour for 200,000 stays);
the clock stands at the start of the year, so every stay is still ahead: the heaviest sweep.
Every run checks what it wrote and what the sweeps did (rows stored, every lock visited, a
warm sweep that changes nothing) and stops if anything is off. ``--quick`` runs the same on
a few dozen locks in seconds, as ``make test`` does so the benchmark cannot rot.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.services.caller import Caller, Role
from doorcode.services.reservations import ReservationDetails, record_reservation
from doorcode.store.capability_codec import capabilities_to_json
from doorcode.store.ids import new_id
from doorcode.store.models import (
    Grant,
    Lock,
    LockCode,
    Organisation,
    Property,
    ProviderAccountRow,
    Reservation,
)
from doorcode.store.models import property_locks as property_locks_table
from doorcode.store.repositories import ReservationRepository
from doorcode.sync import lock_pass, reconciler
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from support import postgres

ACCOUNT = "pac_bench_virtual"
YEAR_START = datetime(2026, 1, 1, 9, tzinfo=UTC)
CAPABILITIES = [
    LockCapabilities(max_codes=50),
    LockCapabilities(native_scheduling=False, max_codes=20),
]


@dataclass(frozen=True)
class Scale:
    """How big a world to sweep."""

    locks: int
    stays_per_lock: int


FULL = Scale(locks=10_000, stays_per_lock=20)
QUICK = Scale(locks=40, stays_per_lock=4)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _NoSession:
    """Stands in for a session so the repository's ``add`` can fill a row we insert in bulk."""

    def add(self, _row: object) -> None:
        pass


@dataclass(frozen=True)
class Account:
    """The provider account every lock of the world is on."""

    kind: str = "virtual"
    credentials: str = "{}"
    options: dict[str, str] = field(default_factory=dict)


def build(
    folder: Path,
    clock: Clock,
    scale: Scale,
    *,
    database_url: str | None = None,
    account: Account | None = None,
    key: str | None = None,
):
    """The world, written in bulk; stays begin within two weeks of ``clock.now``."""
    account = account or Account()
    settings = Settings(
        database_url=database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        secret_key=key or Fernet.generate_key().decode(),
        data_dir=folder,
    )
    cloud = VirtualCloud(clock, rng=random.Random(1))
    virtual = account.kind == "virtual"
    providers = ProviderRegistry([VirtualLockProvider(cloud)]) if virtual else None
    runtime = bootstrap(settings, clock=clock, providers=providers)
    organisation = new_id("org")
    start = clock.now
    rows: dict[Any, list[dict[str, Any]]] = {
        Organisation: [{"id": organisation, "slug": "bench", "name": "Bench", "created_at": start}],
        ProviderAccountRow: [
            {
                "id": ACCOUNT,
                "organisation_id": organisation,
                "kind": account.kind,
                "label": "Bench locks",
                "credentials_token": runtime.cipher.encrypt(account.credentials),
                "options": account.options,
                "created_at": start,
                "updated_at": start,
            }
        ],
        Property: [],
        Lock: [],
        property_locks_table: [],
        Reservation: [],
        Grant: [],
        LockCode: [],
    }
    rng = random.Random(20261123)
    secrets = _Secrets(runtime.cipher.encrypt, ReservationRepository(_NoSession(), runtime.cipher))
    flat = _Flat(rows, organisation, account.kind, start, rng, secrets)
    for number in range(scale.locks):
        flat.add(number, scale.stays_per_lock)
    with runtime.engine.begin() as connection:
        for table, values in rows.items():
            for first in range(0, len(values), 20_000):
                connection.execute(insert(table), values[first : first + 20_000])
    install_virtual_locks(runtime)
    return runtime, Caller(organisation, "bench", Role.OWNER)


@dataclass(frozen=True)
class _Secrets:
    """What makes a stay's secrets: the code cipher, and the guidebook tokens' only maker."""

    encrypt: Callable[[str], str]
    reservations: ReservationRepository

    def guide_token_columns(self) -> dict[str, Any]:
        """The columns ``ReservationRepository.add`` fills with a new guidebook token."""
        row = SimpleNamespace()
        self.reservations.add(row)  # type: ignore[arg-type]
        return vars(row)


@dataclass
class _Flat:
    """Writes the rows of one flat (a property, its lock, its stays) into ``rows``."""

    rows: dict[Any, list[dict[str, Any]]]
    organisation: str
    provider: str
    start: datetime
    rng: random.Random
    secrets: _Secrets

    def add(self, number: int, stays: int) -> None:
        prop, lock = new_id("prp"), new_id("lck")
        stamps = {"created_at": self.start, "updated_at": self.start}
        self.rows[Property].append(
            {
                "id": prop,
                "organisation_id": self.organisation,
                "name": f"Flat {number}",
                "external_id": f"flat-{number}",
                "time_zone": "UTC",
                "check_in_time": time_of_day(15),
                "check_out_time": time_of_day(11),
                "code_length": 6,
                "code_alphabet": "numeric",
                "native_lead_minutes": 72 * 60,
                "unscheduled_lead_minutes": 60,
                **stamps,
            }
        )
        self.rows[Lock].append(
            {
                "id": lock,
                "organisation_id": self.organisation,
                "name": f"Door {number}",
                "provider": self.provider,
                "account_id": ACCOUNT,
                "external_id": f"door-{number}",
                "capabilities": capabilities_to_json(CAPABILITIES[number % 2]),
                "created_at": self.start,
                "sync_requests": 1,
            }
        )
        self.rows[property_locks_table].append({"property_id": prop, "lock_id": lock})
        day = self.start.date() + timedelta(days=self.rng.randrange(0, 14))
        for stay in range(stays):
            nights = self.rng.randint(1, 7)
            self._stay(prop, lock, f"{number}-{stay}", day, nights)
            day += timedelta(days=nights + self.rng.randrange(0, 29))

    def _stay(self, prop: str, lock: str, external_id: str, day: date, nights: int) -> None:
        reservation, grant = new_id("res"), new_id("grt")
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        starts = midnight + timedelta(hours=15)
        ends = midnight + timedelta(days=nights, hours=11)
        common = {
            "organisation_id": self.organisation,
            "created_at": self.start,
            "updated_at": self.start,
        }
        self.rows[Reservation].append(
            {
                "id": reservation,
                "source": "bench",
                "external_id": external_id,
                "property_id": prop,
                "status": "confirmed",
                "check_in": day,
                "check_out": day + timedelta(days=nights),
                "starts_at": starts,
                "ends_at": ends,
                "guest_name": f"guest {external_id}",
                "fingerprint": "-",
                **self.secrets.guide_token_columns(),
                **common,
            }
        )
        self.rows[Grant].append(
            {
                "id": grant,
                "kind": "guest",
                "reservation_id": reservation,
                "property_id": prop,
                "holder": f"guest {external_id}",
                "code_token": self.secrets.encrypt(f"{self.rng.randrange(10**6):06d}"),
                "starts_at": starts,
                "ends_at": ends,
                "version": 1,
                **common,
            }
        )
        self.rows[LockCode].append({"grant_id": grant, "lock_id": lock})


class Phases:
    """Wall time spent in the reconciler's load, passes and record steps."""

    def __init__(self) -> None:
        self.seconds = {"load": 0.0, "passes": 0.0, "record": 0.0}

    def install(self) -> None:
        load, record = reconciler.Reconciler._load, reconciler.Reconciler._record
        run = lock_pass.LockPass.run
        reconciler.Reconciler._load = self._timed("load", load)  # type: ignore[method-assign]
        reconciler.Reconciler._record = self._timed("record", record)  # type: ignore[method-assign]

        async def timed_run(pass_: lock_pass.LockPass):
            started = time.perf_counter()
            try:
                return await run(pass_)
            finally:
                self.seconds["passes"] += time.perf_counter() - started

        lock_pass.LockPass.run = timed_run  # type: ignore[method-assign]

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed

    def reset(self) -> None:
        self.seconds = dict.fromkeys(self.seconds, 0.0)


def sweep(sync: Reconciler) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    outcomes = asyncio.run(sync.reconcile(sync.every_lock()))
    return time.perf_counter() - started, outcomes


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(scale: Scale) -> None:
    clock = Clock(YEAR_START)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        runtime, owner = build(Path(folder), clock, scale)
        stays = scale.locks * scale.stays_per_lock
        print(f"world: {scale.locks:,} locks, {stays:,} reservations and grants,")
        print(f"       written in {time.perf_counter() - started:.1f} s (bulk inserts, SQLite)")
        check_stored(runtime, stays)
        phases = Phases()
        phases.install()
        sync = Reconciler.from_runtime(runtime)

        cold, outcomes = sweep(sync)
        created = sum(outcome.created for outcome in outcomes)
        print(f"cold sweep:  {cold:6.2f} s  ({created:,} codes created, every lock code visited)")
        print(_breakdown(phases))
        assert len(outcomes) == scale.locks, f"the cold sweep passed {len(outcomes)} locks"
        assert created > 0, "the cold sweep created no code"
        phases.reset()
        warm, outcomes = sweep(sync)
        changes = sum(o.created + o.updated + o.deleted for o in outcomes)
        print(f"warm sweep:  {warm:6.2f} s  ({changes} changes; target ≤ 10 s on 2 cores)")
        print(_breakdown(phases))
        assert len(outcomes) == scale.locks, f"the warm sweep passed {len(outcomes)} locks"
        assert changes == 0, f"a warm sweep changed {changes} codes"
        print(f"peak RSS:    {rss_mib():6.0f} MiB (whole process, world building included)")
        gc.collect()
        tracemalloc.start()
        sweep(sync)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"sweep heap:  {peak / 2**20:6.1f} MiB peak (tracemalloc, one warm sweep)")
        _one_change(runtime, owner, sync, f"{scale.locks // 2}-0")
        check_stored(runtime, stays)
        runtime.close()
    on_postgres(scale, warm, phases)


def on_postgres(scale: Scale, warm_on_sqlite: float, phases: Phases) -> None:
    """The same world and sweeps on PostgreSQL; the warm sweep against SQLite's, same run."""
    if not postgres.reachable():
        print(f"postgres:    skipped ({postgres.SERVER.rpartition('@')[2]} does not answer)")
        return
    with tempfile.TemporaryDirectory() as folder, postgres.scratch_database() as url:
        runtime, _ = build(Path(folder), Clock(YEAR_START), scale, database_url=url)
        check_stored(runtime, scale.locks * scale.stays_per_lock)
        sync = Reconciler.from_runtime(runtime)
        phases.reset()
        cold, outcomes = sweep(sync)
        assert len(outcomes) == scale.locks, f"the cold sweep passed {len(outcomes)} locks"
        print(f"cold sweep on PostgreSQL: {cold:6.2f} s")
        print(_breakdown(phases))
        phases.reset()
        warm, outcomes = sweep(sync)
        changes = sum(o.created + o.updated + o.deleted for o in outcomes)
        assert changes == 0, f"a warm sweep on PostgreSQL changed {changes} codes"
        ratio = warm / warm_on_sqlite
        print(f"warm sweep on PostgreSQL: {warm:6.2f} s = {ratio:.2f} x SQLite's (goal <= 1.5)")
        print(_breakdown(phases))
        runtime.close()


def check_stored(runtime, stays: int) -> None:
    """Stop unless every stay is stored once, with its grant and its one lock code."""
    with runtime.engine.connect() as connection:
        counts = {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model))
            for model in (Reservation, Grant, LockCode)
        }
    listed = ", ".join(f"{count:,} {table}" for table, count in counts.items())
    print(f"check:       {listed} stored (expected {stays:,} each)")
    assert set(counts.values()) == {stays}, "the stored world is not the one written"


def _breakdown(phases: Phases) -> str:
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.seconds.items())
    return f"             {parts}"


def _one_change(runtime, owner, sync: Reconciler, external_id: str) -> None:
    """Move one stay by a day, as a PMS webhook would, and reconcile what it touched."""
    touched: list[frozenset[str]] = []
    runtime.commit_hooks.append(touched.append)
    with runtime.uow() as uow:
        reservation = uow.reservations.by_source(owner.organisation_id, "bench", external_id)
        assert reservation is not None
        prop_id, check_in, check_out = (
            reservation.property_id,
            reservation.check_in,
            reservation.check_out,
        )
    details = ReservationDetails(
        "bench",
        external_id,
        prop_id,
        ReservationStatus.CONFIRMED,
        Stay(check_in - timedelta(days=1), check_out),
    )
    started = time.perf_counter()
    record_reservation(runtime.uow(), owner, details)
    service = time.perf_counter() - started
    locks = sorted(set().union(*touched))
    started = time.perf_counter()
    outcomes = asyncio.run(sync.reconcile(locks))
    passes = time.perf_counter() - started
    summary = "; ".join(outcome.summary for outcome in outcomes)
    assert locks, "moving a stay touched no lock"
    print(
        f"one change:  service {service * 1000:.1f} ms, touches {len(locks)} lock(s), "
        f"their pass {passes * 1000:.1f} ms ({summary})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few dozen locks, in seconds")
    main(QUICK if parser.parse_args().quick else FULL)
