"""Radio budget: what a month of bookings costs a battery lock's radio, per stay, through doorcode.

One 250-slot lock (a building's street door) serves several flats; a month of back-to-back
stays in each flat runs through doorcode's services and reconciler against the real back-ends
and their test peers: Z-Wave through the real zwave-js driver with a simulated lock, served by
``@zwave-js/server`` (``make peers``), and zigbee2mqtt through its simulated bridge on the
MQTT broker at 127.0.0.1:1883. The lock comes in as an owner's would: account connected, nodes
imported. Time moves an hour at a time; each hour the due locks get a pass and every three
hours every lock does (the periodic sweep). Counted at two places per back-end: the adapter's
one counting point (``zwave_js.RADIO``; the zigbee2mqtt link's ``operations``) and the lock's
side (frames the simulated node received; publishes the simulated bridge received).

Printed per back-end: the first inventory (once, at import), writes and single-slot reads per
stay, the largest number of reads in one pass after the inventory (a full-slot read would
show as the slot count), and what a sweep costs once everything is in place (goal: 0). Beside
them, the peers' figures from ``lock-backends.md``.

    .venv/bin/python bench/radio.py            # 250 slots, 8 flats, 30 days
    .venv/bin/python bench/radio.py --quick    # 30 slots, 2 flats, 3 days (run by a test)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the peers live in tests/

from bench.support.stays import book_month
from tests.peers.zwave import start_zwave_peer

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.locks.zigbee2mqtt import radio_operations
from doorcode.locks.zigbee2mqtt.simulator import Zigbee2MqttSimulator, broker_answers
from doorcode.locks.zwave_js import RADIO, RadioKind
from doorcode.services.caller import Caller, Role
from doorcode.services.lock_import import import_locks
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.sync.reconciler import Reconciler

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
SWEEP_EVERY = 3
MQTT = ("127.0.0.1", 1883)

PEER_FIGURES = [
    (
        "Lock Code Manager",
        "a full refresh reads every slot: 250 reads, 39 min of radio on a Yale YRD226 (lcm #1278)",
    ),
    (
        "Keymaster",
        "reads the lock every minute: 1,440 reads a day, 43,200 in 30 days (keymaster #589 #109)",
    ),
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Radio:
    """A back-end's counts so far: the adapter's (writes, reads) and the lock's own."""

    writes: int
    reads: int
    at_lock: dict[str, int] = field(default_factory=dict)

    def __sub__(self, other: Radio) -> Radio:
        keys = self.at_lock.keys() | other.at_lock.keys()
        lock = {k: self.at_lock.get(k, 0) - other.at_lock.get(k, 0) for k in keys}
        return Radio(self.writes - other.writes, self.reads - other.reads, lock)


@dataclass
class Backend:
    """One back-end's peer: how to connect doorcode to it and how to read its counters."""

    kind: str
    options: dict[str, str]
    radio: Callable[[Any, Caller | None], Radio]
    started_in: float
    close: Callable[[], None]


class Unavailable(Exception):
    """A back-end's test peer is not installed or reachable here."""


def zwave(slots: int) -> Backend:
    """The real zwave-js driver with one simulated lock, its cache never having read a slot."""
    peers = start_zwave_peer((slots,))
    try:
        peer = next(peers)
    except pytest.skip.Exception as skipped:
        raise Unavailable(str(skipped)) from skipped
    peer.control("/forget", {"node": peer.nodes[0]})
    peer.reset_frames()

    def radio(runtime: Any, owner: Caller | None) -> Radio:
        return Radio(
            RADIO.total(RadioKind.WRITE, peer.url),
            RADIO.total(RadioKind.READ, peer.url),
            peer.frames(peer.nodes[0]),
        )

    return Backend("zwave_js", {"url": peer.url}, radio, peer.started_in, peers.close)


def zigbee(slots: int) -> Backend:
    """The simulated zigbee2mqtt bridge with one Yale lock, on the local broker."""
    started = time.monotonic()
    if not broker_answers(*MQTT):
        raise Unavailable(f"no MQTT broker answers at {MQTT[0]}:{MQTT[1]}")
    bridge = Zigbee2MqttSimulator(*MQTT).start()
    model = {"model": "BE468", "vendor": "Schlage"} if slots == 30 else {}  # else a Yale, 250
    bridge.add_lock("Street door", slots=slots, **model)
    options = {"host": MQTT[0], "port": str(MQTT[1]), "base_topic": bridge.base_topic}

    def radio(runtime: Any, owner: Caller | None) -> Radio:
        ops = None
        if owner is not None:
            with runtime.uow() as uow:
                account = uow.provider_accounts.find(owner.organisation_id, "Home")
            ops = radio_operations(runtime.providers.links, account.id)
        at_lock = {f"{k}s": n for (_, k), n in bridge.received.items()}
        return Radio(ops.sets if ops else 0, ops.gets if ops else 0, at_lock)

    return Backend("zigbee2mqtt", options, radio, time.monotonic() - started, bridge.stop)


BACKENDS: dict[str, Callable[[int], Backend]] = {"zwave_js": zwave, "zigbee2mqtt": zigbee}


@dataclass
class Figures:
    backend: str
    slots: int
    stays: int
    inventory: Radio
    month: Radio
    busiest_pass_reads: int
    steady: Radio
    started_in: float

    def lines(self) -> list[str]:
        per = max(self.stays, 1)
        lock = ", ".join(f"{n} {k}" for k, n in sorted(self.month.at_lock.items()) if n)
        return [
            f"{self.backend:12} peer ready in {self.started_in:.1f} s (loaded machine)",
            f"{self.backend:12} first inventory: {self.inventory.reads} single-slot reads of "
            f"{self.slots} slots (once, at import)",
            f"{self.backend:12} stays {self.stays:4}  writes/stay {self.month.writes / per:4.2f}"
            f"  reads/stay {self.month.reads / per:4.2f}"
            f"  most reads in one pass {self.busiest_pass_reads}"
            f"  (at the lock: {lock or 'nothing'})",
            f"{self.backend:12} steady state: a sweep sends {self.steady.writes} writes and "
            f"{self.steady.reads} reads",
        ]


def simulate(name: str, slots: int, flats: int, days: int, folder: Path) -> Figures:
    """One back-end through ``days`` of bookings in ``flats`` flats sharing one lock."""
    backend = BACKENDS[name](slots)
    try:
        return _month(backend, slots, flats, days, folder)
    finally:
        backend.close()


def _month(backend: Backend, slots: int, flats: int, days: int, folder: Path) -> Figures:
    clock = Clock(START)
    settings = Settings(
        database_url=f"sqlite:///{folder / f'{backend.kind}.sqlite3'}",
        secret_key=Fernet.generate_key().decode(),
        data_dir=folder,
    )
    runtime = bootstrap(settings, clock=clock, rng=Random(7))
    try:
        before = backend.radio(runtime, None)
        owner = _world(runtime, backend, flats)

        def radio() -> Radio:
            return backend.radio(runtime, owner)

        stays, last_out = book_month(runtime, owner, START.date(), days, Random(7))
        reconciler = Reconciler.from_runtime(runtime)
        asyncio.run(reconciler.reconcile(reconciler.every_lock()))  # the first pass
        imported = radio()
        busiest = 0
        for hour in range(1, ((last_out - START.date()).days + 1) * 24):
            clock.now = START + timedelta(hours=hour)
            due = reconciler.every_lock() if hour % SWEEP_EVERY == 0 else reconciler.pending()
            if not due:
                continue
            ahead = radio()
            asyncio.run(reconciler.reconcile(due))
            busiest = max(busiest, (radio() - ahead).reads)
        month = radio() - imported
        asyncio.run(reconciler.reconcile(reconciler.every_lock()))
        settled = radio()
        asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
        steady = radio() - settled
        inventory = imported - before
        return Figures(
            backend.kind, slots, stays, inventory, month, busiest, steady, backend.started_in
        )
    finally:
        runtime.close()


def _world(runtime: Any, backend: Backend, flats: int) -> Caller:
    """The owner's account connected and its lock imported; the flats all use that lock."""
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    request = account_request(runtime.providers, backend.kind, "Home", {}, backend.options)
    connect_account(runtime.uow(), owner, request)
    asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Home"))
    with runtime.uow() as uow:
        [lock_id] = [lock.id for lock in uow.locks.all(organisation.id)]
    for n in range(flats):
        details = PropertyDetails(name=f"Flat {n}", time_zone="Europe/Paris")
        prop = add_property(runtime.uow(), owner, details)
        link_lock(runtime.uow(), owner, prop.id, lock_id)
    return owner


def main(argv: list[str] | None = None) -> list[Figures]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 slots, 2 flats, 3 days")
    parser.add_argument("--slots", type=int, default=250)
    parser.add_argument("--flats", type=int, default=8)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backend", action="append", choices=sorted(BACKENDS))
    args = parser.parse_args(argv)
    slots, flats, days = (30, 2, 3) if args.quick else (args.slots, args.flats, args.days)
    print(
        f"radio budget: one {slots}-slot lock shared by {flats} flats, {days} days, "
        f"a pass per due lock each hour, every lock every {SWEEP_EVERY} h"
    )
    print("goal: <= 2 writes and <= 2 single-slot reads per stay, 0 in steady state")
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.backend or list(BACKENDS):
            try:
                figures.append(simulate(name, slots, flats, days, Path(folder)))
            except Unavailable as missing:
                print(f"{name:12} skipped: {missing}", flush=True)
                continue
            for line in figures[-1].lines():
                print(line, flush=True)
    for peer, figure in PEER_FIGURES:
        print(f"{'peer':12} {peer}: {figure}")
    return figures


if __name__ == "__main__":
    main()
