"""The process the fault-and-kill soak kills: doorcode's sync runner on a faulty virtual cloud.

    python -m tests.sync.soak_runner DATA_DIR

It runs ``SyncRunner.run_once`` (the round ``doorcode serve`` runs) over the SQLite database and
the file-backed virtual cloud in DATA_DIR, whose calls fail at random (503s, time-outs, 429s).
Time is simulated so backoffs of minutes pass in milliseconds: after each round the clock jumps
to the next instant a lock is due (or the next sweep), and it is kept in DATA_DIR/clock so a
restart after ``kill -9`` carries on from where the killed process was.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

from sqlalchemy import select

from doorcode.bootstrap import VIRTUAL_LOCKS_FILE, bootstrap
from doorcode.config import Settings
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import Faults, VirtualCloud, VirtualLockProvider
from doorcode.runtime import Runtime
from doorcode.services.lock_sync import lock_code_status_of
from doorcode.store.models import Grant, LockCode
from doorcode.sync.reconciler import Reconciler
from doorcode.sync.runner import SyncRunner

FAULTS = Faults(failure_rate=0.10, timeout_rate=0.10, rate_limit_rate=0.02)
SWEEP = timedelta(minutes=5)
CONVERGED = "converged"
"""The file where the first simulated instant with every code set is written."""
KEY_ENV = "SOAK_SECRET_KEY"
SEED_ENV = "SOAK_SEED"


class SavedClock:
    """Simulated time that survives the process: read at start, written after each round."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.now = datetime.fromisoformat(json.loads(path.read_text())["now"])

    def __call__(self) -> datetime:
        return self.now

    def jump(self, to: datetime) -> None:
        self.now = max(self.now + timedelta(seconds=1), to)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"now": self.now.isoformat()}))
        os.replace(temporary, self.path)


async def run(data_dir: Path) -> None:
    clock = SavedClock(data_dir / "clock")
    cloud = VirtualCloud(
        clock, path=data_dir / VIRTUAL_LOCKS_FILE, faults=FAULTS, rng=Random(os.environ[SEED_ENV])
    )
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'doorcode.sqlite3'}",
        secret_key=os.environ[KEY_ENV],
        data_dir=data_dir,
    )
    runtime = bootstrap(
        settings,
        clock=clock,
        migrate=False,
        providers=ProviderRegistry([VirtualLockProvider(cloud)]),
    )
    reconciler = Reconciler.from_runtime(runtime)
    runner = SyncRunner(reconciler, clock, SWEEP)
    next_sweep = clock() + SWEEP
    while True:
        await runner.run_once()  # a sweep at the first round, as after every restart
        await asyncio.to_thread(note_convergence, runtime, data_dir, clock())
        due = await asyncio.to_thread(reconciler.next_due)
        if clock() >= next_sweep:
            next_sweep = clock() + SWEEP
        clock.jump(min(due, next_sweep) if due is not None else next_sweep)


def status_of_rows(runtime: Runtime) -> dict[tuple[str, str], str]:
    """Each lock code's status, as the dashboard would show it."""
    with runtime.uow() as uow:
        rows = uow.session.execute(
            select(LockCode, Grant.version).join(Grant, Grant.id == LockCode.grant_id)
        ).all()
    return {
        (row.grant_id, row.lock_id): lock_code_status_of(row, version).value
        for row, version in rows
    }


def note_convergence(runtime: Runtime, data_dir: Path, now: datetime) -> None:
    """Write the first instant at which every code is set, after the round that made it so.

    The test reads it rather than the clock when it notices: rounds with nothing due jump five
    simulated minutes in milliseconds, so the clock at the test's next look (and during the
    seconds of real time the kills take) says more about this machine's speed than about how
    long the locks took to converge.
    """
    found = data_dir / CONVERGED
    if found.exists() or set(status_of_rows(runtime).values()) != {"set"}:
        return
    temporary = found.with_suffix(".tmp")
    temporary.write_text(now.isoformat())
    os.replace(temporary, found)


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1])))
