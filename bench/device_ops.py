"""Device operations per back-end: a simulated month of bookings through the real reconciler.

For each back-end (virtual, TTLock, Nuki, Seam) the same month of stays runs through doorcode's
services and reconciler against that back-end's adapter, the clouds being the local fakes of
``tests/locks/fakes`` served in-process (httpx's ASGI transport: no sockets, no threads); a
cloud's locks come from its account, connected and imported as an owner would.
Time moves an hour at a time; each hour the locks that are due get a pass, and every three
hours every lock does (the periodic sweep). Printed per back-end:

  * device writes per stay: code creations, window moves and deletions the adapter made,
    divided by the stays (the goal: 1 where the lock schedules natively and expires codes
    itself, at most 2 otherwise);
  * reads per pass: the adapter's listing calls per lock pass, and the HTTP requests per pass
    the cloud saw (Nuki's create is a PUT and a listing; its list asks for the lock's state);
  * writes in steady state: what a sweep right after convergence writes (the goal: 0).

    .venv/bin/python bench/device_ops.py            # 6 locks, 30 days
    .venv/bin/python bench/device_ops.py --quick    # 2 locks, 5 days (seconds; run by a test)

Seam runs against Seam's own fake when ``make peers`` installed it, and is skipped otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes live in tests/

from bench.support.stays import book_month
from tests.locks.fakes import nuki as nuki_fake
from tests.locks.fakes import ttlock as ttlock_fake
from tests.locks.fakes.accounts import connect_and_import, registry_on
from tests.peers.seam import start_seam_peer

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.locks.base import LockProvider
from doorcode.locks.nuki import NukiProvider
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.seam import SeamProvider
from doorcode.locks.ttlock import TtlockProvider
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.services.caller import Caller, Role
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.sync.reconciler import Reconciler

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
SWEEP_EVERY = 3
WRITES = ("create_code", "update_code", "delete_code")
READS = ("list_codes", "list_devices")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Counting(LockProvider):
    """Forwards to the shared virtual provider and counts the contract calls it gets."""

    def __init__(self, inner: LockProvider, calls: Counter[str]) -> None:
        self.inner = inner
        self.kind = inner.kind  # type: ignore[misc]
        self.abilities = inner.abilities  # type: ignore[misc]
        self.rate_limits = inner.rate_limits
        self.resolution = inner.resolution
        self.calls = calls

    async def list_devices(self):
        self.calls["list_devices"] += 1
        return await self.inner.list_devices()

    async def list_codes(self, device_id):
        self.calls["list_codes"] += 1
        return await self.inner.list_codes(device_id)

    async def create_code(self, device_id, code):
        self.calls["create_code"] += 1
        return await self.inner.create_code(device_id, code)

    async def update_code(self, device_id, code_id, window):
        self.calls["update_code"] += 1
        return await self.inner.update_code(device_id, code_id, window)

    async def delete_code(self, device_id, code_id):
        self.calls["delete_code"] += 1
        return await self.inner.delete_code(device_id, code_id)


def counted(backend: type[LockProvider], calls: Counter[str]) -> type[LockProvider]:
    """The back-end's class, counting the contract calls of every instance built per account."""

    class Counted(backend):  # type: ignore[valid-type,misc]
        async def list_devices(self):
            calls["list_devices"] += 1
            return await super().list_devices()

        async def list_codes(self, device_id):
            calls["list_codes"] += 1
            return await super().list_codes(device_id)

        async def create_code(self, device_id, code):
            calls["create_code"] += 1
            return await super().create_code(device_id, code)

        async def update_code(self, device_id, code_id, window):
            calls["update_code"] += 1
            return await super().update_code(device_id, code_id, window)

        async def delete_code(self, device_id, code_id):
            calls["delete_code"] += 1
            return await super().delete_code(device_id, code_id)

    return Counted


@dataclass
class Backend:
    """One back-end: the registry reaching its cloud, its counters, and its devices."""

    registry: ProviderRegistry
    calls: Counter[str]
    http_requests: Callable[[], int | None]
    device_ids: list[str] = field(default_factory=list)
    """Devices to add by hand (virtual); the others are imported from their account."""
    connect: Callable[[Any, Caller], None] | None = None
    """Connects the account and imports its devices (the clouds)."""
    after_pass: Callable[[], None] = lambda: None
    """What the devices do between passes (Seam's fake never confirms by itself)."""
    close: Callable[[], None] = lambda: None


def virtual(clock: Clock, locks: int) -> Backend:
    cloud = VirtualCloud(clock, rng=Random(1))
    for n in range(locks):
        cloud.install(f"door-{n}", f"Door {n}", LockCapabilities(max_codes=50))
    calls: Counter[str] = Counter()
    registry = ProviderRegistry([Counting(VirtualLockProvider(cloud), calls)])
    return Backend(registry, calls, lambda: 0, [f"door-{n}" for n in range(locks)])


def ttlock(clock: Clock, locks: int) -> Backend:
    cloud = ttlock_fake.TtlockCloud(clock)
    for n in range(locks):
        cloud.add_lock(f"Door {n}")
    calls: Counter[str] = Counter()
    registry = registry_on(cloud, backends={"ttlock": counted(TtlockProvider, calls)})
    connect = _importer("ttlock")
    return Backend(registry, calls, lambda: sum(cloud.calls.values()), connect=connect)


def nuki(clock: Clock, locks: int) -> Backend:
    cloud = nuki_fake.NukiCloud(clock)
    for n in range(locks):
        cloud.add_smartlock(f"Door {n}")
    calls: Counter[str] = Counter()
    registry = registry_on(cloud, backends={"nuki": counted(NukiProvider, calls)})
    connect = _importer("nuki")
    return Backend(registry, calls, lambda: sum(cloud.calls.values()), connect=connect)


def seam(clock: Clock, locks: int) -> Backend:
    """Seam's own fake (``make peers``), over the network on 127.0.0.1."""
    peers = start_seam_peer()
    try:
        peer = next(peers)
    except pytest.skip.Exception as skipped:
        raise Unavailable(str(skipped)) from skipped
    for n in range(locks):
        peer.add_device(f"dev_{n}", f"Door {n}", supported_code_lengths=[4, 6], online=True)
    calls: Counter[str] = Counter()
    registry = ProviderRegistry(backends={"seam": counted(SeamProvider, calls)})

    def connect(runtime: Any, owner: Caller) -> None:
        credentials = {"api_key": peer.api_key}
        connect_and_import(runtime, owner, "seam", credentials, peer.api_url)

    return Backend(
        registry,
        calls,
        lambda: None,
        connect=connect,
        after_pass=peer.confirm_all,
        close=lambda: peers.close(),
    )


class Unavailable(Exception):
    """A back-end's test peer is not installed here."""


def _importer(kind: str) -> Callable[[Any, Caller], None]:
    def connect(runtime: Any, owner: Caller) -> None:
        connect_and_import(runtime, owner, kind)

    return connect


BACKENDS: dict[str, Callable[[Clock, int], Backend]] = {
    "virtual": virtual,
    "ttlock": ttlock,
    "nuki": nuki,
    "seam": seam,
}


@dataclass
class Figures:
    backend: str
    stays: int
    writes: int
    passes: int
    reads: int
    http_requests: int | None
    steady_writes: int
    steady_reads_per_lock: float
    by_kind: dict[str, int]

    def _http_per_pass(self) -> str:
        if self.http_requests is None:
            return "  n/a"
        return f"{self.http_requests / max(self.passes, 1):5.2f}"

    def line(self) -> str:
        return (
            f"{self.backend:8} stays {self.stays:4}  writes/stay {self.writes / self.stays:5.2f}"
            f" (create {self.by_kind['create_code'] / self.stays:4.2f},"
            f" move {self.by_kind['update_code'] / self.stays:4.2f},"
            f" delete {self.by_kind['delete_code'] / self.stays:4.2f})"
            f"  reads/pass {self.reads / max(self.passes, 1):5.2f}"
            f"  http/pass {self._http_per_pass()}"
            f"  steady-state writes {self.steady_writes}"
            f"  (reads/lock {self.steady_reads_per_lock:.1f})"
        )


def simulate(name: str, locks: int, days: int, folder: Path, seed: int = 7) -> Figures:
    """One back-end through ``days`` of bookings on ``locks`` locks."""
    clock = Clock(START)
    backend = BACKENDS[name](clock, locks)
    try:
        return _month(name, backend, clock, locks, days, folder, seed)
    finally:
        backend.close()


def _month(
    name: str, backend: Backend, clock: Clock, locks: int, days: int, folder: Path, seed: int
) -> Figures:
    settings = Settings(
        database_url=f"sqlite:///{folder / f'{name}.sqlite3'}",
        secret_key=Fernet.generate_key().decode(),
        data_dir=folder,
    )
    runtime = bootstrap(settings, clock=clock, rng=Random(seed), providers=backend.registry)
    owner = _world(runtime, backend, name)
    stays, _ = book_month(runtime, owner, START.date(), days, Random(seed))
    reconciler = Reconciler.from_runtime(runtime)
    passes = 0
    for hour in range(days * 24):
        clock.now = START + timedelta(hours=hour)
        due = reconciler.every_lock() if hour % SWEEP_EVERY == 0 else reconciler.pending()
        passes += len(asyncio.run(reconciler.reconcile(due)))
        backend.after_pass()
    calls_in_month = Counter(backend.calls)
    writes = sum(calls_in_month[w] for w in WRITES)
    reads = sum(backend.calls[r] for r in READS)
    http = backend.http_requests()
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    backend.after_pass()
    before = Counter(backend.calls)
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    after = backend.calls - before
    return Figures(
        name,
        stays,
        writes,
        passes,
        reads,
        http,
        sum(after[w] for w in WRITES),
        sum(after[r] for r in READS) / locks,
        {w: calls_in_month[w] for w in WRITES},
    )


def _world(runtime: Any, backend: Backend, name: str) -> Caller:
    """One flat per lock; cloud locks come from their connected account, as an owner's would."""
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    for n, device_id in enumerate(backend.device_ids):
        details = LockDetails(name=f"Door {n}", provider=name, external_id=device_id)
        add_lock(runtime.uow(), owner, details)
    if backend.connect is not None:
        backend.connect(runtime, owner)
    with runtime.uow() as uow:
        lock_ids = [lock.id for lock in uow.locks.all(organisation.id)]
    for n, lock_id in enumerate(lock_ids):
        prop = add_property(
            runtime.uow(), owner, PropertyDetails(name=f"Flat {n}", time_zone="Europe/Paris")
        )
        link_lock(runtime.uow(), owner, prop.id, lock_id)
    return owner


def main(argv: list[str] | None = None) -> list[Figures]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 locks, 5 days: seconds")
    parser.add_argument("--locks", type=int, default=6)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backend", action="append", choices=sorted(BACKENDS))
    args = parser.parse_args(argv)
    locks, days = (2, 5) if args.quick else (args.locks, args.days)
    print(f"device operations: {locks} locks, {days} days, a pass per due lock each hour")
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.backend or list(BACKENDS):
            try:
                figures.append(simulate(name, locks, days, Path(folder)))
            except Unavailable as missing:
                print(f"{name:8} skipped: {missing}", flush=True)
                continue
            print(figures[-1].line(), flush=True)
    return figures


if __name__ == "__main__":
    main()
