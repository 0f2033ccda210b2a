"""Memory: ``doorcode serve`` holding 10,000 locks and 200,000 stays, and a sweep's heap by size.

The world is ``bench/reconcile.py``'s (bulk-written, SQLite, stays from now to a year ahead),
every lock on a Seam account whose cloud (``bench/support/cloud.py``) answers at once. Prints:

  * the peak and current RSS of the real ``doorcode serve`` process (``/proc``: VmHWM,
    VmRSS) after its first sweep (cold: every lock code visited, codes in their lead time
    created) and after the next one (warm: nothing to change). Goal: <= 600 MiB;
  * the Python heap (tracemalloc peak) of a warm sweep over the first 1,000, 5,000 and all
    10,000 locks, in this process: a sweep reads and records in batches, so its heap must
    not grow with the number of locks.

``--quick`` runs the same on a few dozen locks in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, or_, select

from booking_to_door import free_port, start_cloud, stop, wait_for
from doorcode.store.models import Lock
from doorcode.sync.reconciler import Reconciler
from reconcile import Account, Clock, build, check_stored
from reconcile import Scale as World

PROGRESS = 60  # seconds between two progress lines while a sweep runs
SWEEP_INTERVAL = 10  # seconds; the shortest serve allows, so the warm sweep comes soon


@dataclass(frozen=True)
class Scale:
    world: World
    heap_sizes: tuple[int, ...]


FULL = Scale(World(locks=10_000, stays_per_lock=20), (1_000, 5_000, 10_000))
QUICK = Scale(World(locks=40, stays_per_lock=4), (10, 20, 40))


def memory_of(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS of ``pid``, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) / 1024
    return found


def swept_since(runtime, since: datetime | None) -> int:
    """Locks not passed since ``since`` (never passed at all, with None)."""
    query = select(func.count()).select_from(Lock)
    query = query.where(
        Lock.synced_at.is_(None)
        if since is None
        else or_(Lock.synced_at.is_(None), Lock.synced_at < since)
    )
    with runtime.engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def wait_for_sweep(runtime, server, since: datetime | None, within: float) -> float:
    """Seconds until every lock was passed since ``since``; stops the run past ``within``.

    Every ``PROGRESS`` seconds it prints how far the sweep got and serve's memory so far.
    """
    started = last = time.monotonic()
    while left := swept_since(runtime, since):
        if server.poll() is not None:
            raise SystemExit(f"doorcode serve exited with {server.returncode}")
        if time.monotonic() - started > within:
            raise SystemExit(f"serve did not sweep every lock within {within:.0f} s")
        if time.monotonic() - last > PROGRESS:
            last = time.monotonic()
            seen = memory_of(server.pid)
            print(
                f"  after {last - started:4.0f} s: {left:,} locks to go, "
                f"peak RSS {seen['VmHWM']:.0f} MiB, RSS {seen['VmRSS']:.0f} MiB"
            )
        time.sleep(0.5)
    return time.monotonic() - started


def serve_rss(runtime, folder: Path, key: str, within: float) -> None:
    env = os.environ | {
        "DOORCODE_DATA_DIR": str(folder),
        "DOORCODE_DATABASE_URL": runtime.settings.resolved_database_url(),
        "DOORCODE_SECRET_KEY": key,
        "DOORCODE_LOG_LEVEL": "ERROR",
        "DOORCODE_SWEEP_INTERVAL": str(SWEEP_INTERVAL),
    }
    port = free_port()
    doorcode = str(Path(sys.executable).parent / "doorcode")
    server = subprocess.Popen(  # noqa: S603
        [doorcode, "serve", "--port", str(port)], env=env, start_new_session=True
    )
    try:
        wait_for(f"http://127.0.0.1:{port}", server)
        cold = wait_for_sweep(runtime, server, None, within)
        after_cold = memory_of(server.pid)
        print(
            f"serve, cold sweep:  {cold:6.1f} s   peak RSS {after_cold['VmHWM']:5.0f} MiB   "
            f"RSS {after_cold['VmRSS']:5.0f} MiB (goal <= 600 MiB)"
        )
        mark = datetime.now(UTC)
        warm = wait_for_sweep(runtime, server, mark, within + SWEEP_INTERVAL)
        after_warm = memory_of(server.pid)
        print(
            f"serve, warm sweep:  {warm:6.1f} s   peak RSS {after_warm['VmHWM']:5.0f} MiB   "
            f"RSS {after_warm['VmRSS']:5.0f} MiB  "
            f"(its wait for the {SWEEP_INTERVAL} s tick included)"
        )
    finally:
        stop(server)


def heap_by_size(runtime, sizes: tuple[int, ...]) -> None:
    sync = Reconciler.from_runtime(runtime)
    lock_ids = sync.every_lock()
    peaks = []
    for size in sizes:
        gc.collect()
        tracemalloc.start()
        asyncio.run(sync.reconcile(lock_ids[:size]))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append(peak / 2**20)
    listed = "   ".join(
        f"{size:,} locks {peak:5.1f} MiB" for size, peak in zip(sizes, peaks, strict=True)
    )
    print(f"warm sweep heap (tracemalloc peak): {listed}")
    print(f"  largest / smallest: {peaks[-1] / peaks[0]:.2f} (independent of the locks: ~1)")


def main(scale: Scale) -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    cloud_process, cloud = start_cloud(0.0)
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            world = scale.world
            import httpx

            devices = {"prefix": "door-", "first": 0, "count": world.locks, "name": "Door"}
            httpx.post(
                f"{cloud['url']}/_bench/devices", json=devices, timeout=60
            ).raise_for_status()
            key = Fernet.generate_key().decode()
            account = Account(
                "seam", json.dumps({"api_key": cloud["api_key"]}), {"base_url": cloud["url"]}
            )
            url = f"sqlite:///{folder / 'doorcode.sqlite3'}"
            runtime, _ = build(
                folder, Clock(datetime.now(UTC)), world, database_url=url, account=account, key=key
            )
            stays = world.locks * world.stays_per_lock
            print(f"world: {world.locks:,} locks, {stays:,} stays (SQLite)")
            check_stored(runtime, stays)
            serve_rss(runtime, folder, key, within=2400 if world.locks > 1000 else 60)
            heap_by_size(runtime, scale.heap_sizes)
            runtime.close()
    finally:
        cloud_process.terminate()
        cloud_process.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few dozen locks, in seconds")
    main(QUICK if parser.parse_args().quick else FULL)
