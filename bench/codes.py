"""Code allocation throughput: the allocator alone, and through the service on SQLite.

Prints grants per second for
  * 10,000 overlapping grants on one lock group, 6-digit codes (allocator);
  * 9,000 overlapping grants in a 4-digit space (10,000 codes), where random draws keep
    colliding and the allocator falls back to enumerating free codes (allocator);
  * 10,000 back-to-back stays on one lock group, through record_reservation on SQLite
    (what a property really sees: few grants overlap at once);
  * 2,000 overlapping grants through the service, where every allocation reads and decrypts
    the codes already in use: the cost grows with how many grants overlap.

Each figure is checked (codes distinct, one grant stored per request) before it is printed.
``--quick`` runs the same with a few hundred grants in seconds, as ``make test`` does.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.domain.code_allocation import TakenCodes, allocate_code
from doorcode.domain.code_policy import CodePolicy
from doorcode.domain.grants import GrantKind
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow
from doorcode.services.caller import Caller, Role
from doorcode.services.grants import ManualGrantRequest, create_manual_grant
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.services.reservations import ReservationDetails, record_reservation
from doorcode.store.models import Grant


@dataclass(frozen=True)
class Scale:
    """How many grants each figure allocates."""

    six_digits: int
    four_digits: int
    back_to_back: int
    overlapping: int


FULL = Scale(six_digits=10_000, four_digits=9_000, back_to_back=10_000, overlapping=2_000)
QUICK = Scale(six_digits=500, four_digits=500, back_to_back=30, overlapping=30)


def allocator(length: int, count: int) -> tuple[float, int]:
    """Allocate ``count`` codes that all overlap; the taken set is rebuilt per grant as the
    service does."""
    policy, rng, taken = CodePolicy(length), random.SystemRandom(), []
    started = time.perf_counter()
    for _ in range(count):
        taken.append(allocate_code(policy, TakenCodes(taken, prefix_free=False), rng))
    elapsed = time.perf_counter() - started
    assert len(set(taken)) == count
    return count / elapsed, len(set(taken))


def service_world(folder: Path):
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
        secret_key=Fernet.generate_key().decode(),
        data_dir=folder,
    )
    runtime = bootstrap(settings)
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    prop = add_property(runtime.uow(), owner, PropertyDetails("Flat", "Europe/London"))
    for name in ("street door", "flat door"):
        lock = add_lock(runtime.uow(), owner, LockDetails(name))
        link_lock(runtime.uow(), owner, prop.id, lock.id)
    return runtime, owner, prop


def first_day() -> date:
    """A month from today: every stay is ahead of the service's clock, on any date."""
    return datetime.now(UTC).date() + timedelta(days=30)


def grants_stored(runtime) -> int:
    with runtime.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Grant)))


def back_to_back_stays(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        runtime, owner, prop = service_world(Path(folder))
        first = first_day()
        started = time.perf_counter()
        for number in range(count):
            check_in = first + timedelta(days=3 * number)
            stay = Stay(check_in, check_in + timedelta(days=3))
            details = ReservationDetails(
                "bench", f"B{number}", prop.id, ReservationStatus.CONFIRMED, stay
            )
            record_reservation(runtime.uow(), owner, details)
        elapsed = time.perf_counter() - started
        assert grants_stored(runtime) == count, "not one grant per stay"
        runtime.close()
    return count / elapsed


def overlapping_service_grants(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        runtime, owner, prop = service_world(Path(folder))
        starts = datetime.combine(first_day(), datetime.min.time(), UTC)
        window = TimeWindow(starts, starts + timedelta(days=31))
        started = time.perf_counter()
        for number in range(count):
            request = ManualGrantRequest(
                GrantKind.STAFF, f"staff {number}", window, property_ref=prop.id
            )
            create_manual_grant(runtime.uow(), owner, request)
        elapsed = time.perf_counter() - started
        assert grants_stored(runtime) == count, "not one grant per request"
        runtime.close()
    return count / elapsed


def show(label: str, rate: float) -> None:
    print(f"{label:<58}{rate:10,.0f} grants/s")


def main(scale: Scale) -> None:
    count = scale.six_digits
    show(f"allocator, 6 digits, {count:,} overlapping grants:", allocator(6, count)[0])
    count = scale.four_digits
    show(f"allocator, 4 digits, {count:,} overlapping (of 10,000):", allocator(4, count)[0])
    count = scale.back_to_back
    show(f"service on SQLite, {count:,} back-to-back stays, 6 digits:", back_to_back_stays(count))
    count = scale.overlapping
    rate = overlapping_service_grants(count)
    show(f"service on SQLite, {count:,} overlapping grants, 6 digits:", rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred grants, in seconds")
    main(QUICK if parser.parse_args().quick else FULL)
