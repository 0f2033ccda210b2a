"""Code allocation throughput: the allocator alone, and through the service on SQLite.

Prints grants per second for
  * 10,000 overlapping grants on one lock group, 6-digit codes (allocator);
  * 9,000 overlapping grants in a 4-digit space (10,000 codes), where random draws keep
    colliding and the allocator falls back to enumerating free codes (allocator);
  * 10,000 back-to-back stays on one lock group, through record_reservation on SQLite
    (what a property really sees: few grants overlap at once);
  * 2,000 overlapping grants through the service, where every allocation reads and decrypts
    the codes already in use: the cost grows with how many grants overlap.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

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


def back_to_back_stays(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        runtime, owner, prop = service_world(Path(folder))
        started = time.perf_counter()
        for number in range(count):
            check_in = date(2027, 1, 1) + timedelta(days=3 * number)
            stay = Stay(check_in, check_in + timedelta(days=3))
            details = ReservationDetails(
                "bench", f"B{number}", prop.id, ReservationStatus.CONFIRMED, stay
            )
            record_reservation(runtime.uow(), owner, details)
        elapsed = time.perf_counter() - started
        runtime.close()
    return count / elapsed


def overlapping_service_grants(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        runtime, owner, prop = service_world(Path(folder))
        window = TimeWindow(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
        started = time.perf_counter()
        for number in range(count):
            request = ManualGrantRequest(
                GrantKind.STAFF, f"staff {number}", window, property_ref=prop.id
            )
            create_manual_grant(runtime.uow(), owner, request)
        elapsed = time.perf_counter() - started
        runtime.close()
    return count / elapsed


def main() -> None:
    rate, _ = allocator(6, 10_000)
    print(f"allocator, 6 digits, 10,000 overlapping grants:        {rate:10,.0f} grants/s")
    rate, _ = allocator(4, 9_000)
    print(f"allocator, 4 digits, 9,000 overlapping (nearly full):   {rate:10,.0f} grants/s")
    rate = back_to_back_stays(10_000)
    print(f"service on SQLite, 10,000 back-to-back stays, 6 digits: {rate:10,.0f} grants/s")
    rate = overlapping_service_grants(2_000)
    print(f"service on SQLite, 2,000 overlapping grants, 6 digits:  {rate:10,.0f} grants/s")


if __name__ == "__main__":
    main()
