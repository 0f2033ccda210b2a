"""Fault-and-kill soak: 120 windows move while the lock cloud fails at random and the sync process
is killed with SIGKILL at random moments; it must still converge, in bounded simulated time,
with no orphan, missing or duplicate code on any lock.

The sync process is real (``tests/sync/soak_runner.py``: doorcode's runner round over the
SQLite file and the file-backed virtual cloud). Its clock is simulated and saved, so the
minutes of backoff that faults cause pass in milliseconds, and a restart resumes the same time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from doorcode.bootstrap import VIRTUAL_LOCKS_FILE, bootstrap
from doorcode.config import Settings
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.tags import grant_id_from_tag
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.store.models import Grant, Lock
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.sync.soak_runner import CONVERGED, KEY_ENV, SEED_ENV, status_of_rows
from tests.sync.test_convergence import expected_codes

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day
FLATS, STAYS, KILLS = 8, 15, 4
CONVERGES_WITHIN = timedelta(hours=2)
"""Simulated time from the move to the first instant every window is right, faults and kills
included; the runner notes that instant (``soak_runner.note_convergence``). Measured on 6
December 2026 over 9 seeds: 3 to 6 minutes (a fifth of all calls fail; backoffs are capped at 5
minutes, a 429 pauses the account's locks). The test used to read the clock when it noticed,
and rounds with nothing due jump five simulated minutes in milliseconds, so the seconds of real
time the kills and its polling take read as 2 to 13 hours: a bound of 6 h then failed about
half the runs. What this test guards is that the locks converge, and hold no orphan, missing or
duplicate code. Before issue 17, a killed worker's job lock froze its lock for good."""
REAL_TIME_LIMIT = 60.0


@pytest.fixture
def world(sqlite_url, tmp_path, clock):
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    cloud = VirtualCloud(clock, path=tmp_path / VIRTUAL_LOCKS_FILE)
    runtime = bootstrap(
        settings,
        clock=clock,
        migrate=False,
        providers=ProviderRegistry([VirtualLockProvider(cloud)]),
    )
    owner = make_owner(runtime)
    flats = [make_property(runtime, owner, f"Flat {n}", time_zone="UTC") for n in range(FLATS)]
    for flat in flats:
        for n in range(STAYS):
            check_in = TODAY + timedelta(days=n % 2)
            book(runtime, owner, flat, f"{flat.name}/{n}", check_in, check_in + timedelta(days=2))
    install_virtual_locks(runtime)
    reconciler = Reconciler.from_runtime(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    assert Counter(status_of_rows(runtime).values()) == {"set": FLATS * STAYS}
    for flat in flats:  # every stay is extended by a night: every window moves
        for n in range(STAYS):
            check_in = TODAY + timedelta(days=n % 2)
            book(runtime, owner, flat, f"{flat.name}/{n}", check_in, check_in + timedelta(days=3))
    (tmp_path / "clock").write_text(json.dumps({"now": clock.now.isoformat()}))
    yield runtime, cloud, tmp_path
    runtime.close()


def start_sync(data_dir: Path, seed: str) -> subprocess.Popen:
    env = {**os.environ, KEY_ENV: TEST_KEY, SEED_ENV: seed}
    with open(data_dir / "sync.log", "ab") as log:  # a file: a full pipe would block it
        return subprocess.Popen(
            [sys.executable, "-m", "tests.sync.soak_runner", str(data_dir)],
            env=env,
            cwd=Path(__file__).parents[2],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def simulated_now(data_dir: Path) -> datetime:
    return datetime.fromisoformat(json.loads((data_dir / "clock").read_text())["now"])


def all_set(runtime) -> bool:
    try:
        return set(status_of_rows(runtime).values()) == {"set"}
    except OperationalError:  # the sync process holds the write lock right now
        return False


def test_windows_converge_under_faults_and_kills_without_orphans_or_duplicates(world, clock):
    runtime, cloud, data_dir = world
    moved_at = clock.now
    seed = int(os.environ.get(SEED_ENV) or int.from_bytes(os.urandom(4), "big"))
    pauses = Random(seed)
    process = start_sync(data_dir, f"{seed}/0")
    try:
        for run in range(1, KILLS + 1):
            time.sleep(pauses.uniform(0.3, 2.0))
            kill(process)
            process = start_sync(data_dir, f"{seed}/{run}")
        deadline = time.monotonic() + REAL_TIME_LIMIT
        while not (all_set(runtime) and (data_dir / CONVERGED).exists()):
            assert process.poll() is None, (data_dir / "sync.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (
                f"seed {seed}: not converged after {REAL_TIME_LIMIT} s real,"
                f" {simulated_now(data_dir) - moved_at} simulated:"
                f" {Counter(status_of_rows(runtime).values())}"
            )
            time.sleep(0.3)
    finally:
        kill(process)
    took = datetime.fromisoformat((data_dir / CONVERGED).read_text()) - moved_at
    print(f"converged {took} (simulated) after the move; seed {seed}")
    assert took <= CONVERGES_WITHIN, f"seed {seed}: converged only after {took}"
    clock.now = simulated_now(data_dir)
    assert_locks_hold_exactly_their_codes(runtime, cloud)


def assert_locks_hold_exactly_their_codes(runtime, cloud):
    wanted = expected_codes(runtime, runtime.clock())
    with runtime.uow() as uow:
        grants = {grant.id: grant for grant in uow.session.scalars(select(Grant))}
        devices = list(uow.session.scalars(select(Lock.external_id)))
    for device in devices:
        codes = cloud.codes_on(device)
        held = [grant_id_from_tag(code.name) for code in codes]
        assert len(held) == len(set(held)), f"{device}: a grant twice"
        assert len({code.code for code in codes}) == len(codes), f"{device}: a PIN twice"
        assert sorted(held) == wanted[device], f"{device}: orphan or missing codes"
        for code in codes:
            grant = grants[grant_id_from_tag(code.name)]
            assert code.ends_at is not None
            assert abs(code.ends_at - grant.ends_at) < timedelta(minutes=1), "an unmoved window"
