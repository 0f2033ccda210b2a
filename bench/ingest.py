"""Reservation ingestion: signed webhooks through the real app, and a 10,000-event calendar.

Prints
  * requests per second and p50 / p99 latency for signed generic webhooks POSTed to the real
    ASGI app served by uvicorn on loopback (one worker, SQLite), at concurrency 1, 16 and
    64. Each request is a new booking (a reservation, a guest grant with a fresh code, audit
    events and the delivery record, in one transaction), spread over 100 properties as a
    PMS's traffic would be; then the same bookings again (duplicates: "unchanged");
  * the time to parse a 10,000-event Airbnb-style calendar with icalendar, to compare it
    with the feed's memory of 10,000 bookings, and to run a whole first sync of it against
    a local server (201 of its stays are current, the rest history).

The server runs in its own process so client and server do not share one interpreter.
``--only webhooks`` or ``--only feed`` runs one half, for quick iterations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from cryptography.fernet import Fernet

from doorcode.api.app import create_app
from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.domain.feed_diff import Remembered, diff_feed
from doorcode.services.caller import Caller, Role
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.organisations import create_organisation
from doorcode.services.properties import PropertyDetails, add_property, link_lock
from doorcode.sources.ical_feeds import FeedPolicy, FeedSettings, add_feed, sync_feed
from doorcode.sources.ical_parser import parse_calendar
from doorcode.sources.webhook_signature import signed_headers
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source

PROPERTIES = 100
LEVELS = [(1, 500), (16, 2000), (64, 3000)]


def settings_for(folder: Path, key: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{folder / 'bench.sqlite3'}", secret_key=key, data_dir=folder
    )


def prepare(folder: Path, key: str) -> tuple[str, str]:
    """An organisation with 100 properties, each with a lock, and a generic source."""
    runtime = bootstrap(settings_for(folder, key))
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    for number in range(PROPERTIES):
        details = PropertyDetails(f"Unit {number}", "Europe/London", external_id=f"unit-{number}")
        prop = add_property(runtime.uow(), owner, details)
        lock = add_lock(runtime.uow(), owner, LockDetails(f"Unit {number} door"))
        link_lock(runtime.uow(), owner, prop.id, lock.id)
    issued = add_source(runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))
    runtime.close()
    return issued.source.id, issued.secret


def serve(folder: str, key: str, port: int) -> None:
    runtime = bootstrap(settings_for(Path(folder), key), migrate=False)
    app = create_app(runtime)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def booking(number: int) -> bytes:
    """A new booking; each property gets a stay after the previous one."""
    unit, turn = number % PROPERTIES, number // PROPERTIES
    check_in = date(2027, 1, 1) + timedelta(days=3 * turn)
    body = {
        "version": 1,
        "external_id": f"B-{number}",
        "property": f"unit-{unit}",
        "status": "confirmed",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guest": {"name": f"Guest {number}", "email": f"guest{number}@example.org"},
        "updated_at": "2026-11-20T08:00:00Z",
    }
    return json.dumps(body).encode()


async def load(url: str, secret: str, bodies: list[bytes], concurrency: int) -> list[float]:
    """POST every body, ``concurrency`` at a time; the latencies of the successful ones."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                headers = signed_headers(secret, body, datetime.now(UTC), f"d-{id(body)}")
                headers["Content-Type"] = "application/json"
                started = time.perf_counter()
                answer = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def report(label: str, latencies: list[float], elapsed: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    rate = len(ordered) / elapsed
    print(f"  {label:<34} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


def webhooks() -> None:
    key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory() as folder:
        source_id, secret = prepare(Path(folder), key)
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(folder, key, port), daemon=True
        )
        server.start()
        base = f"http://127.0.0.1:{port}"
        wait_for(base)
        url = f"{base}/webhooks/reservations/{source_id}"
        print("signed webhooks, uvicorn + SQLite, one worker on loopback:")
        first = 0
        for concurrency, count in LEVELS:
            bodies = [booking(number) for number in range(first, first + count)]
            first += count
            started = time.perf_counter()
            latencies = asyncio.run(load(url, secret, bodies, concurrency))
            elapsed = time.perf_counter() - started
            report(f"new bookings, concurrency {concurrency}", latencies, elapsed)
        repeats = [booking(number) for number in range(2000)]
        started = time.perf_counter()
        latencies = asyncio.run(load(url, secret, repeats, 64))
        report("duplicates, concurrency 64", latencies, time.perf_counter() - started)
        server.terminate()
        server.join()


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the benchmark server did not start")


def calendar(events: int, today: date) -> bytes:
    first = today - timedelta(days=events - 200)
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN", "VERSION:2.0"]
    for number in range(events):
        day = first + timedelta(days=number)
        lines += [
            "BEGIN:VEVENT",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"UID:{number:012x}-bench@airbnb.com",
            "SUMMARY:Reserved",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def feed() -> None:
    today = datetime.now(UTC).date()
    body = calendar(10_000, today)
    started = time.perf_counter()
    parsed = parse_calendar(body)
    parse_time = time.perf_counter() - started
    keys = [event.uid or "" for event in parsed.events]
    remembered = {key: Remembered(f"f-{key}") for key in keys}
    current = {key: f"f-{key}" for key in keys[:-100]}
    started = time.perf_counter()
    diff = diff_feed(remembered, current, set(current))
    diff_time = time.perf_counter() - started
    assert len(diff.missed) == 100
    print("a 10,000-event calendar:")
    print(f"  parse ({len(body) / 1e6:.1f} MB, icalendar)         {parse_time * 1000:7.0f} ms")
    print(f"  diff against 10,000 remembered bookings  {diff_time * 1000:7.1f} ms")
    print(f"  first sync through SQLite (201 current)  {first_sync(body) * 1000:7.0f} ms")


def first_sync(body: bytes) -> float:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.sources.http_server import LocalServer

    with tempfile.TemporaryDirectory() as folder, LocalServer() as server:
        runtime = bootstrap(settings_for(Path(folder), Fernet.generate_key().decode()))
        organisation = create_organisation(runtime.uow(), "bench", "Bench")
        owner = Caller(organisation.id, "bench", Role.OWNER)
        prop = add_property(runtime.uow(), owner, PropertyDetails("Flat", "Europe/London"))
        lock = add_lock(runtime.uow(), owner, LockDetails("Flat door"))
        link_lock(runtime.uow(), owner, prop.id, lock.id)
        server.set("/huge.ics", body)
        added = add_feed(runtime.uow(), owner, FeedSettings(prop.id, server.url("/huge.ics")))
        with httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            report = sync_feed(runtime.uow(), owner, client, added.id, FeedPolicy())
            elapsed = time.perf_counter() - started
        assert report.outcome == "ok", report
        runtime.close()
        return elapsed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["webhooks", "feed"], help="run one half only")
    only = parser.parse_args().only
    if only in (None, "webhooks"):
        webhooks()
    if only in (None, "feed"):
        feed()
