"""Reservation ingestion: signed webhooks through the real app, and a 10,000-event calendar.

Prints
  * requests per second and p50 / p99 latency for signed generic webhooks POSTed to the real
    ASGI app served by uvicorn on loopback (one worker, SQLite), at concurrency 1, 16 and
    64. Each request is a new booking (a reservation, a guest grant with a fresh code, audit
    events and the delivery record, in one transaction), spread over 100 properties as a
    PMS's traffic would be; then the same bookings again (duplicates: "unchanged");
  * the time to parse a 10,000-event Airbnb-style calendar with icalendar, to compare it
    with the feed's memory of 10,000 bookings, and to run a whole first sync of it against
    a local server (200 of its stays are ahead, the rest history).

The server runs in its own process so client and server do not share one interpreter.
Every answer is checked (new bookings ``accepted``, repeats ``unchanged``) and, once the server
has stopped, so is the database: one reservation and one grant per booking, one delivery per
request; nothing may be lost under load. ``--only webhooks`` or ``--only feed`` runs one half,
for quick iterations; ``--quick`` runs both at tiny sizes in seconds, as ``make test`` does.

The client drops a connection it has left idle for ``CLIENT_KEEP_ALIVE`` seconds, well before
the server's ``SERVER_KEEP_ALIVE``. With both at 5 s (httpx's and uvicorn's defaults) a
request sent on a connection idle for about 5 s met the server closing it on its timer: the
request was never answered and the run died of ``httpx.ReadError``.
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
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select

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
from doorcode.store.models import Grant, Reservation, WebhookDelivery

SERVER_KEEP_ALIVE = 5  # seconds; uvicorn's default, what `doorcode serve` runs with
CLIENT_KEEP_ALIVE = 1.0  # seconds; must stay well under SERVER_KEEP_ALIVE


@dataclass(frozen=True)
class Scale:
    """How much traffic to send and how big a calendar to read."""

    properties: int
    levels: tuple[tuple[int, int], ...]  # (concurrency, new bookings)
    duplicates: tuple[int, int]  # (concurrency, repeats of the first bookings)
    calendar: tuple[int, int]  # (events, of which from today on)


FULL = Scale(100, ((1, 500), (16, 2000), (64, 3000)), (64, 2000), (10_000, 200))
QUICK = Scale(4, ((1, 6), (8, 24)), (8, 24), (40, 10))


def settings_for(folder: Path, key: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{folder / 'bench.sqlite3'}", secret_key=key, data_dir=folder
    )


def prepare(folder: Path, key: str, properties: int) -> tuple[str, str]:
    """An organisation with ``properties`` properties, each with a lock, and a generic source."""
    runtime = bootstrap(settings_for(folder, key))
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    for number in range(properties):
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
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=SERVER_KEEP_ALIVE,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Bookings:
    """The bookings of one run, spread over the properties, all ahead of the server's clock."""

    properties: int
    first_day: date
    updated_at: str

    @classmethod
    def from_today(cls, properties: int) -> Bookings:
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        first_day = now.date() + timedelta(days=30)
        return cls(properties, first_day, midnight.isoformat().replace("+00:00", "Z"))

    def body(self, number: int) -> bytes:
        """Booking ``number``; each property gets a stay after the previous one."""
        unit, turn = number % self.properties, number // self.properties
        check_in = self.first_day + timedelta(days=3 * turn)
        body = {
            "version": 1,
            "external_id": f"B-{number}",
            "property": f"unit-{unit}",
            "status": "confirmed",
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
            "guest": {"name": f"Guest {number}", "email": f"guest{number}@example.org"},
            "updated_at": self.updated_at,
        }
        return json.dumps(body).encode()


async def load(
    url: str, secret: str, bodies: list[bytes], concurrency: int, outcome: str
) -> list[float]:
    """POST every body, ``concurrency`` at a time, each answered 200 with ``outcome``; the
    latencies."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=CLIENT_KEEP_ALIVE,
    )
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                delivery = f"bench-{uuid.uuid4().hex}"
                headers = signed_headers(secret, body, datetime.now(UTC), delivery)
                headers["Content-Type"] = "application/json"
                started = time.perf_counter()
                answer = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                outcomes[answer.json()["outcome"]] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert outcomes == {outcome: len(bodies)}, f"expected only {outcome}: {dict(outcomes)}"
    return latencies


def report(label: str, latencies: list[float], elapsed: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    rate = len(ordered) / elapsed
    print(f"  {label:<34} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


def webhooks(scale: Scale) -> None:
    key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory() as folder:
        source_id, secret = prepare(Path(folder), key, scale.properties)
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(folder, key, port), daemon=True
        )
        server.start()
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base)
            requests = send(f"{base}/webhooks/reservations/{source_id}", secret, scale)
        finally:
            server.terminate()
            server.join()
        bookings = sum(count for _, count in scale.levels)
        check_stored(settings_for(Path(folder), key), bookings, requests)


def send(url: str, secret: str, scale: Scale) -> int:
    """Every level of new bookings, then the duplicates; how many requests were sent."""
    print(
        f"signed webhooks, uvicorn + SQLite, one worker on loopback, {scale.properties} properties:"
    )
    bookings, first = Bookings.from_today(scale.properties), 0
    for concurrency, count in scale.levels:
        bodies = [bookings.body(number) for number in range(first, first + count)]
        first += count
        started = time.perf_counter()
        latencies = asyncio.run(load(url, secret, bodies, concurrency, "accepted"))
        elapsed = time.perf_counter() - started
        report(f"new bookings, concurrency {concurrency}", latencies, elapsed)
    concurrency, count = scale.duplicates
    repeats = [bookings.body(number) for number in range(count)]
    started = time.perf_counter()
    latencies = asyncio.run(load(url, secret, repeats, concurrency, "unchanged"))
    report(f"duplicates, concurrency {concurrency}", latencies, time.perf_counter() - started)
    return first + count


def check_stored(settings: Settings, bookings: int, requests: int) -> None:
    """Stop unless each booking left one reservation and one grant, and each request its
    delivery record: nothing lost, nothing doubled."""
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        counts = {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model))
            for model in (Reservation, Grant, WebhookDelivery)
        }
    engine.dispose()
    print(
        f"  check: {counts['reservations']:,} reservations and {counts['grants']:,} grants for "
        f"{bookings:,} bookings, {counts['webhook_deliveries']:,} deliveries for {requests:,} "
        "requests"
    )
    assert counts["reservations"] == counts["grants"] == bookings, "a booking was lost or doubled"
    assert counts["webhook_deliveries"] == requests, "a delivery was lost or doubled"


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the benchmark server did not start")


def calendar(events: int, upcoming: int, today: date) -> bytes:
    """An Airbnb-style calendar of one-night stays: history that ended by the day before
    yesterday, then ``upcoming`` stays from tomorrow on (so the count does not depend on the
    hour, nor on whether London has reached tomorrow yet)."""
    history = events - upcoming
    nights = [today - timedelta(days=history + 2 - number) for number in range(history)]
    nights += [today + timedelta(days=1 + number) for number in range(upcoming)]
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN", "VERSION:2.0"]
    for number, day in enumerate(nights):
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


def feed(events: int, upcoming: int) -> None:
    today = datetime.now(UTC).date()
    body = calendar(events, upcoming, today)
    started = time.perf_counter()
    parsed = parse_calendar(body)
    parse_time = time.perf_counter() - started
    keys = [event.uid or "" for event in parsed.events]
    remembered = {key: Remembered(f"f-{key}") for key in keys}
    gone = max(1, events // 100)
    current = {key: f"f-{key}" for key in keys[:-gone]}
    started = time.perf_counter()
    diff = diff_feed(remembered, current, set(current))
    diff_time = time.perf_counter() - started
    assert len(diff.missed) == gone, f"the diff missed {len(diff.missed)} of {gone} bookings"
    print(f"a {events:,}-event calendar:")
    print(f"  parse ({len(body) / 1e6:.2f} MB, icalendar)        {parse_time * 1000:7.0f} ms")
    print(f"  diff against {events:,} remembered bookings {diff_time * 1000:8.1f} ms")
    sync_time, created = first_sync(body)
    print(f"  first sync through SQLite ({created} current) {sync_time * 1000:7.0f} ms")
    assert created == upcoming, f"the first sync created {created} reservations, not {upcoming}"


def first_sync(body: bytes) -> tuple[float, int]:
    """How long a feed's first sync of ``body`` takes, and how many reservations it made."""
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
        return elapsed, report.created


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["webhooks", "feed"], help="run one half only")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, in seconds")
    arguments = parser.parse_args()
    scale = QUICK if arguments.quick else FULL
    if arguments.only in (None, "webhooks"):
        webhooks(scale)
    if arguments.only in (None, "feed"):
        feed(*scale.calendar)
