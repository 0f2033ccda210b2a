"""Booking to door: from a signed webhook's answer to the code on the lock and the message queued.

Runs the real ``doorcode serve`` (API and embedded runner in one process, SQLite) in a process
of its own, sends new bookings as signed generic webhooks at a steady rate (each on its own
property, check-in tomorrow: inside every lead time, so its code goes on the lock at once),
then cancels them at the same rate. Prints p50 / p99 / max of:

  * booking answered -> code held by the lock (the device's own memory says so);
  * booking answered -> the guest's message queued (a ``messages`` row for the grant);
  * cancellation answered -> code gone from the lock;
  * through the cloud, its calls per booking and per cancellation, by path (a pass that puts
    a new code on a lock reads the lock and creates: two calls, each ``CLOUD_LATENCY``), and
    how often two calls for one device overlapped (a pass and the access poller may).

Two back-ends, each against its own fresh ``serve``:

  * ``virtual``: the default provider, the simulated devices in ``virtual-locks.json``
    (read by this process as ``doorcode keypad enter`` would, every ``POLL`` seconds);
  * ``cloud``: a Seam-shaped cloud (``bench/support/cloud.py``, served over loopback HTTP to
    the real ``SeamProvider``) whose every call takes ``CLOUD_LATENCY`` seconds, as Seam's
    do; the cloud stamps the instant a code appears and leaves.

The goal (issue 16): p99 <= 1 s on the embedded default, <= 2 s through a cloud. Every booking
is checked to have reached its lock and its message, and every cancellation to have left it;
the run stops with an error otherwise. ``--quick`` runs a few bookings in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from doorcode.bootstrap import VIRTUAL_LOCKS_FILE, bootstrap
from doorcode.config import Settings
from doorcode.locks.tags import tag_for
from doorcode.services.caller import Caller, Role
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.sources.webhook_signature import signed_headers
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.sync.provisioning import install_virtual_locks

BENCH = Path(__file__).resolve().parent
POLL = 0.02  # seconds between two looks at the devices and the messages
CLOUD_LATENCY = 0.2  # seconds per call of the Seam-shaped cloud
WAIT_AFTER = 30.0  # seconds the last booking may take to reach its lock before the run fails


@dataclass(frozen=True)
class Scale:
    """How many bookings, how fast."""

    bookings: int
    per_second: float
    properties: int


FULL = Scale(bookings=600, per_second=10, properties=60)  # a minute at 10 bookings/s
QUICK = Scale(bookings=12, per_second=6, properties=6)
LEAD = 30 * 24 * 60
"""Minutes: the longest lead time, so every booking's code goes onto its lock at once."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class World:
    """A served installation: where its API is, its webhook source, its devices."""

    folder: Path
    key: str
    source_id: str
    secret: str
    doors: list[str]

    @property
    def database(self) -> Path:
        return self.folder / "doorcode.sqlite3"

    def settings(self) -> Settings:
        return Settings(data_dir=self.folder, secret_key=self.key)


def prepare(folder: Path, properties: int, cloud: dict[str, str] | None) -> World:
    """An organisation with one property and one lock per booking, and a generic source."""
    key = Fernet.generate_key().decode()
    runtime = bootstrap(Settings(data_dir=folder, secret_key=key))
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    if cloud is not None:
        request = account_request(
            runtime.providers,
            "seam",
            "cloud",
            {"api_key": cloud["api_key"]},
            {"base_url": cloud["url"]},
        )
        connect_account(runtime.uow(), owner, request)
        devices = {"prefix": "door-", "first": 0, "count": properties, "name": "Door"}
        httpx.post(f"{cloud['url']}/_bench/devices", json=devices, timeout=30).raise_for_status()
    doors = []
    for number in range(properties):
        details = PropertyDetails(
            f"Unit {number}", "UTC", external_id=f"unit-{number}", native_lead_minutes=LEAD
        )
        prop = add_property(runtime.uow(), owner, details)
        door = f"door-{number}"
        provider = "virtual" if cloud is None else "seam"
        lock = add_lock(runtime.uow(), owner, LockDetails(door, provider, external_id=door))
        link_lock(runtime.uow(), owner, prop.id, lock.id)
        doors.append(door)
    issued = add_source(runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))
    if cloud is None:
        install_virtual_locks(runtime)
    runtime.close()
    return World(folder, key, issued.source.id, issued.secret, doors)


def start_serve(world: World, port: int) -> subprocess.Popen[bytes]:
    """The real ``doorcode serve``, in its own process group."""
    env = os.environ | {
        "DOORCODE_DATA_DIR": str(world.folder),
        "DOORCODE_SECRET_KEY": world.key,
        "DOORCODE_LOG_LEVEL": "ERROR",
        "DOORCODE_SWEEP_INTERVAL": "3600",
    }
    doorcode = Path(sys.executable).parent / "doorcode"
    return subprocess.Popen(  # noqa: S603
        [str(doorcode), "serve", "--port", str(port)], env=env, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def wait_for(url: str, process: subprocess.Popen[bytes], within: float = 180) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode} before it answered")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {within:.0f} s")


def booking(number: int, status: str, first: datetime, properties: int) -> bytes:
    """Booking ``number``: each property's stays follow one another from ``first`` on."""
    day = first.date() + timedelta(days=2 * (number // properties))
    body = {
        "version": 1,
        "external_id": f"B-{number}",
        "property": f"unit-{number % properties}",
        "status": status,
        "check_in": day.isoformat(),
        "check_out": (day + timedelta(days=1)).isoformat(),
        "guest": {"name": f"Guest {number}", "email": f"guest{number}@example.org"},
        "updated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(body).encode()


async def send_at_rate(
    url: str, secret: str, bodies: list[bytes], rate: float
) -> list[tuple[float, str]]:
    """POST each body at its turn (open loop: one every 1/rate s); (answered at, grant id) each."""
    answers: list[tuple[float, str]] = [(0.0, "")] * len(bodies)
    # No pool limit or pool timeout: the rate is the client's, however slowly the server answers.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
    timeout = httpx.Timeout(120, pool=None)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:

        async def one(index: int, body: bytes, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            headers = signed_headers(secret, body, datetime.now(UTC), f"b-{uuid.uuid4().hex}")
            headers["Content-Type"] = "application/json"
            answer = await client.post(url, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            found = answer.json()
            assert found["outcome"] == "accepted", found
            answers[index] = (time.time(), found["grant_id"])

        start = time.monotonic() + 0.1
        await asyncio.gather(*(one(n, body, start + n / rate) for n, body in enumerate(bodies)))
    return answers


class Watch:
    """Looks at the devices and the messages every ``POLL`` s; when each tag came and went."""

    def __init__(self, world: World, codes_on_devices: Callable[[], set[str] | None]) -> None:
        self._world = world
        self._codes = codes_on_devices
        self.appeared: dict[str, float] = {}
        self.left: dict[str, float] = {}
        self.queued: dict[str, float] = {}
        self._seen: set[str] = set()

    async def run(self, until: Callable[[], bool], within: float) -> None:
        deadline = time.monotonic() + within
        while not until():
            if time.monotonic() > deadline:
                return
            await asyncio.to_thread(self._look)
            await asyncio.sleep(POLL)

    def _look(self) -> None:
        now = time.time()
        codes = self._codes()
        if codes is not None:
            for tag in codes - self._seen:
                self.appeared.setdefault(tag, now)
            for tag in self._seen - codes:
                self.left.setdefault(tag, now)
            self._seen = codes
        with sqlite3.connect(f"file:{self._world.database}?mode=ro", uri=True, timeout=5) as db:
            for (grant_id,) in db.execute("SELECT grant_id FROM messages"):
                self.queued.setdefault(grant_id, now)


def virtual_codes(folder: Path) -> Callable[[], set[str] | None]:
    """The tags on every simulated device, read from the file the devices live in."""
    path = folder / VIRTUAL_LOCKS_FILE

    def read() -> set[str] | None:
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # being replaced this instant; look again next time
        return {code["name"] for device in state["devices"].values() for code in device["codes"]}

    return read


def quantiles(label: str, delays: list[float], expected: int) -> str:
    """p50, p99 and max; what never arrived counts as infinitely late."""
    if not delays:
        return f"  {label:<34} none of {expected} arrived"
    ordered = sorted(delays) + [float("inf")] * (expected - len(delays))
    p50 = statistics.median(ordered)
    p99 = ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]
    return (
        f"  {label:<34} p50 {p50 * 1000:6.0f} ms   p99 {p99 * 1000:6.0f} ms   "
        f"max {ordered[-1] * 1000:6.0f} ms   (n={len(ordered)})"
    )


def run(backend: str, scale: Scale) -> None:
    cloud_process: subprocess.Popen[str] | None = None
    cloud: dict[str, str] | None = None
    with tempfile.TemporaryDirectory() as folder:
        if backend == "cloud":
            cloud_process, cloud = start_cloud(CLOUD_LATENCY)
        try:
            world = prepare(Path(folder), scale.properties, cloud)
            port = free_port()
            server = start_serve(world, port)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(base, server)
                measure(backend, world, base, scale, cloud)
            finally:
                stop(server)
        finally:
            if cloud_process is not None:
                cloud_process.terminate()
                cloud_process.wait(timeout=10)


def measure(
    backend: str, world: World, base: str, scale: Scale, cloud: dict[str, str] | None
) -> None:
    url = f"{base}/webhooks/reservations/{world.source_id}"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    news = [booking(n, "confirmed", tomorrow, scale.properties) for n in range(scale.bookings)]
    cancels = [booking(n, "cancelled", tomorrow, scale.properties) for n in range(scale.bookings)]
    codes = virtual_codes(world.folder) if cloud is None else (lambda: None)
    watch = Watch(world, codes)
    label = (
        "virtual provider"
        if backend == "virtual"
        else f"Seam-shaped cloud, {CLOUD_LATENCY * 1000:.0f} ms a call"
    )
    print(
        f"doorcode serve (SQLite, embedded runner), {label}, "
        f"{scale.bookings} bookings at {scale.per_second:g}/s:"
    )

    async def bookings() -> list[tuple[float, str]]:
        sending = asyncio.create_task(send_at_rate(url, world.secret, news, scale.per_second))
        done = lambda: sending.done() and _all_in(watch, sending, cloud)  # noqa: E731
        await watch.run(done, scale.bookings / scale.per_second + WAIT_AFTER)
        return await sending

    started = time.monotonic()
    calls_before = cloud_calls(cloud)
    answered = asyncio.run(bookings())
    elapsed = time.monotonic() - started
    if cloud is not None:
        watch.appeared = cloud_times(cloud)["appeared"]
    grants = [grant for _, grant in answered]
    to_lock = [
        watch.appeared[tag_for(g)] - at for at, g in answered if tag_for(g) in watch.appeared
    ]
    to_message = [watch.queued[g] - at for at, g in answered if g in watch.queued]
    print(
        f"  sent {len(answered)} bookings in {elapsed:.1f} s "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(quantiles("booking -> code on the lock", to_lock, len(grants)))
    print(quantiles("booking -> guest message queued", to_message, len(grants)))
    calls_booked = cloud_calls(cloud)
    print_calls("per booking", calls_before, calls_booked, len(grants))

    async def cancellations() -> list[tuple[float, str]]:
        sending = asyncio.create_task(send_at_rate(url, world.secret, cancels, scale.per_second))
        done = lambda: sending.done() and _all_gone(watch, sending, cloud)  # noqa: E731
        await watch.run(done, scale.bookings / scale.per_second + WAIT_AFTER)
        return await sending

    cancelled = asyncio.run(cancellations())
    if cloud is not None:
        watch.left = cloud_times(cloud)["left"]
    gone = [watch.left[tag_for(g)] - at for at, g in cancelled if tag_for(g) in watch.left]
    print(quantiles("cancellation -> code gone", gone, len(cancelled)))
    print_calls("per cancellation", calls_booked, cloud_calls(cloud), len(cancelled))
    print(
        f"  check: {len(to_lock)} of {len(grants)} codes on, {len(gone)} off, "
        f"{len(to_message)} messages queued"
    )
    if not len(to_lock) == len(to_message) == len(gone) == len(grants):
        raise SystemExit(f"some did not arrive within {WAIT_AFTER:.0f} s of the last booking")


def _all_in(
    watch: Watch, sending: asyncio.Task[list[tuple[float, str]]], cloud: dict[str, str] | None
) -> bool:
    grants = [grant for _, grant in sending.result()]
    appeared = cloud_times(cloud)["appeared"] if cloud is not None else watch.appeared
    return all(tag_for(g) in appeared and g in watch.queued for g in grants)


def _all_gone(
    watch: Watch, sending: asyncio.Task[list[tuple[float, str]]], cloud: dict[str, str] | None
) -> bool:
    left = cloud_times(cloud)["left"] if cloud is not None else watch.left
    return all(tag_for(g) in left for _, g in sending.result())


def start_cloud(latency: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The Seam-shaped cloud on a free port; waits (bounded) for its ready line."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(BENCH / "support" / "cloud.py"),
            "--port",
            str(port),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{ready['url']}/_bench/stats", timeout=1)
            return process, ready
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the bench cloud did not start")


def cloud_calls(cloud: dict[str, str] | None) -> dict[str, int]:
    """The cloud's calls so far by path, and ``overlaps`` (calls on a device already called)."""
    if cloud is None:
        return {}
    stats = httpx.get(f"{cloud['url']}/_bench/stats", timeout=10).json()
    return {**stats["calls"], "overlaps": stats["overlaps"]}


def print_calls(label: str, before: dict[str, int], after: dict[str, int], count: int) -> None:
    """Calls per booking (or cancellation) by path, from two readings of the counters."""
    if not after or not count:
        return
    made = {path: after[path] - before.get(path, 0) for path in sorted(after)}
    paths = ", ".join(
        f"{path} {n / count:.2f}" for path, n in made.items() if n and path != "overlaps"
    )
    print(
        f"  cloud calls {label} (health and access polling included): {paths}; "
        f"calls overlapping on one device: {made['overlaps']}"
    )


def cloud_times(cloud: dict[str, str]) -> dict[str, dict[str, float]]:
    answer: dict[str, dict[str, float]] = httpx.get(
        f"{cloud['url']}/_bench/codes", timeout=10
    ).json()
    return answer


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few bookings, in seconds")
    parser.add_argument("--backend", choices=["virtual", "cloud", "both"], default="both")
    parser.add_argument("--latency", type=float, default=CLOUD_LATENCY, help="cloud's, seconds")
    arguments = parser.parse_args()
    CLOUD_LATENCY = arguments.latency
    chosen = QUICK if arguments.quick else FULL
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for name in ("virtual", "cloud") if arguments.backend == "both" else (arguments.backend,):
        run(name, chosen)
