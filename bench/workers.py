"""Workers that scale: lock passes per second with 1, 2 and 4 ``doorcode worker`` processes.

The world is ``bench/reconcile.py``'s (10,000 locks, 20 stays each) on a scratch PostgreSQL
database, every lock on a Seam account whose cloud (``bench/support/cloud.py``, loopback HTTP
to the real ``SeamProvider``) takes ``LATENCY`` seconds a call, as a cloud does. A first sweep
in this process (cloud at 0 ms) brings every lock in sync; then a pass is queued for every lock
and 1, 2, then 4 real ``doorcode worker`` processes (``--concurrency``, the CLI's default
unless told) work the queue for ``window`` seconds each. Prints, per worker count:

  * lock passes per second (the cloud's ``access_codes/list`` calls: one per pass), and the
    ratio to one worker (goal: 4 workers >= 3.5x one, until the provider's documented rate
    limit binds; Seam documents a limit on code creations per device only);
  * calls the cloud saw on a device while another call on it was in flight: two passes on
    one lock at once. Must be 0, and the run stops otherwise.

``--quick`` runs the same on a few dozen locks with 1 and 2 workers in seconds; without a
reachable PostgreSQL it says so and stops without an error (``make test`` on a machine without
one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from cryptography.fernet import Fernet

from booking_to_door import start_cloud
from doorcode.store.database import libpq_url
from doorcode.sync.jobs import RECONCILE, build_job_app, defer_sweep, ensure_schema
from doorcode.sync.reconciler import Reconciler
from reconcile import Account, Clock, build, check_stored, sweep
from reconcile import Scale as World
from support import postgres

LATENCY = 0.2  # seconds a cloud call takes


@dataclass(frozen=True)
class Scale:
    """How big a world, how many workers, how long each is watched."""

    world: World
    workers: tuple[int, ...]
    window: float  # seconds of measurement per worker count
    warm_up: float  # seconds after the workers started before measuring


FULL = Scale(World(locks=10_000, stays_per_lock=20), (1, 2, 4), window=30, warm_up=5)
QUICK = Scale(World(locks=150, stays_per_lock=1), (1, 2), window=2, warm_up=1)


def start_workers(
    count: int, env: dict[str, str], concurrency: int
) -> list[subprocess.Popen[bytes]]:
    doorcode = str(Path(sys.executable).parent / "doorcode")
    return [
        subprocess.Popen(  # noqa: S603
            [doorcode, "worker", "--concurrency", str(concurrency), "--name", f"bench-{n}"],
            env=env,
            start_new_session=True,
        )
        for n in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=5)


def waiting_jobs(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %s",
            (RECONCILE,),
        ).fetchone()
    return int(row[0]) if row else 0


def stats(cloud: dict[str, str]) -> dict[str, object]:
    answer: dict[str, object] = httpx.get(f"{cloud['url']}/_bench/stats", timeout=30).json()
    return answer


def passes(cloud: dict[str, str]) -> int:
    calls = stats(cloud)["calls"]
    assert isinstance(calls, dict)
    return int(calls.get("access_codes/list", 0))


def set_cloud(cloud: dict[str, str], **settings: object) -> None:
    httpx.post(f"{cloud['url']}/_bench/settings", json=settings, timeout=30).raise_for_status()


def main(scale: Scale, concurrency: int, first_sweep: bool = True) -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    if not postgres.reachable():
        print("workers: skipped, PostgreSQL does not answer")
        return
    cloud_process, cloud = start_cloud(0.0)
    try:
        with tempfile.TemporaryDirectory() as folder, postgres.scratch_database() as url:
            run(scale, concurrency, cloud, Path(folder), url, first_sweep)
    finally:
        cloud_process.terminate()
        cloud_process.wait(timeout=10)


def run(
    scale: Scale,
    concurrency: int,
    cloud: dict[str, str],
    folder: Path,
    url: str,
    first_sweep: bool = True,
) -> None:
    world = scale.world
    devices = {"prefix": "door-", "first": 0, "count": world.locks, "name": "Door"}
    httpx.post(f"{cloud['url']}/_bench/devices", json=devices, timeout=60).raise_for_status()
    key = Fernet.generate_key().decode()
    account = Account("seam", json.dumps({"api_key": cloud["api_key"]}), {"base_url": cloud["url"]})
    started = time.perf_counter()
    runtime, _ = build(
        folder, Clock(datetime.now(UTC)), world, database_url=url, account=account, key=key
    )
    stays = world.locks * world.stays_per_lock
    print(
        f"world: {world.locks:,} locks, {stays:,} stays on PostgreSQL, "
        f"written in {time.perf_counter() - started:.0f} s"
    )
    check_stored(runtime, stays)
    sync = Reconciler.from_runtime(runtime)
    if first_sweep:
        cold, outcomes = sweep(sync)
        print(
            f"first sweep in this process (cloud at 0 ms): {cold:.1f} s, "
            f"{sum(o.created for o in outcomes):,} codes created"
        )
    else:
        print("no first sweep: the workers' passes are each lock's first (codes created)")
    set_cloud(cloud, latency=LATENCY, reset_counters=True)
    env = os.environ | {
        "DOORCODE_DATABASE_URL": url,
        "DOORCODE_SECRET_KEY": key,
        "DOORCODE_DATA_DIR": str(folder),
        "DOORCODE_LOG_LEVEL": "ERROR",
        "DOORCODE_SWEEP_INTERVAL": "86400",
    }
    lock_ids = sync.every_lock()
    print(
        f"doorcode worker processes, --concurrency {concurrency}, "
        f"cloud {LATENCY * 1000:.0f} ms a call, "
        f"{scale.window:.0f} s each:"
    )
    rates: dict[int, float] = {}
    overlaps = 0
    for count in scale.workers:
        asyncio.run(enqueue(url, sync, lock_ids))
        set_cloud(cloud, reset_counters=True)
        workers = start_workers(count, env, concurrency)
        try:
            rates[count] = measure(cloud, scale, workers)
        finally:
            stop_workers(workers)
        seen = stats(cloud)
        overlaps += int(seen["overlaps"])  # type: ignore[call-overload]
        ratio = rates[count] / rates[scale.workers[0]]
        print(
            f"  {count} worker(s): {rates[count]:7.1f} lock passes/s   {ratio:4.2f}x one   "
            f"two passes on one lock at once: {seen['overlaps']}   "
            f"(most calls in flight {seen['most_in_flight']}, "
            f"load average {os.getloadavg()[0]:.1f})"
        )
    print(f"check: {overlaps} times two passes on one lock at once (must be 0)")
    assert overlaps == 0, "two passes ran on one lock at once"
    runtime.close()


async def enqueue(url: str, sync: Reconciler, lock_ids: list[str]) -> None:
    """A pass for every lock, as a sweep enqueues them (one waiting job per lock at most)."""
    app = build_job_app(url, sync)
    async with app.open_async():
        await ensure_schema(app)
        if waiting_jobs(url) >= len(lock_ids) // 2:
            return
        await defer_sweep(app, lock_ids)  # as the periodic sweep does


def measure(cloud: dict[str, str], scale: Scale, workers: list[subprocess.Popen[bytes]]) -> float:
    """Passes per second over the window, once the workers have all begun."""
    deadline = time.monotonic() + 60
    while passes(cloud) == 0:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit("the workers made no pass within 60 s")
        time.sleep(0.2)
    time.sleep(scale.warm_up)
    before, started = passes(cloud), time.monotonic()
    time.sleep(scale.window)
    after, ended = passes(cloud), time.monotonic()
    assert all(w.poll() is None for w in workers), "a worker stopped during the window"
    return (after - before) / (ended - started)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few dozen locks, in seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="each worker's --concurrency")
    parser.add_argument(
        "--no-first-sweep", action="store_true", help="measure first passes, not warm ones"
    )
    arguments = parser.parse_args()
    main(QUICK if arguments.quick else FULL, arguments.concurrency, not arguments.no_first_sweep)
