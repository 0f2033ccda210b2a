"""Reservation ingestion: signed webhooks against the HTTP stack's ceiling, and a calendar.

Prints, in one run on this machine (each ratio is measured within the run; the load average
is printed beside it because the machine is shared):

  * the ceiling: a bare ASGI app under the same uvicorn settings that reads a signed JSON
    body, checks its signature, parses it and answers 200: what the HTTP stack and this
    client can do here, with no database;
  * doorcode's new-booking webhook on the embedded default (SQLite, one process) at
    concurrency 1, 16 and 64, then the same bookings again (duplicates: ``unchanged``);
    each new booking is a reservation, a guest grant with a fresh code, audit events and
    the delivery record, in one transaction, spread over 100 properties;
  * the same new bookings at concurrency 16 on a database already holding 100,000 bookings
    (years of history and the coming weeks, written in bulk), against the empty database's
    figure: a per-booking cost that grows with stored data shows here;
  * PostgreSQL with ``doorcode serve --workers N`` (N = cores, ``DOORCODE_RUNNER=worker``),
    new bookings at 16 and 64 and duplicates;
  * the time to parse a 10,000-event Airbnb-style calendar with icalendar, to compare it
    with the feed's memory of 10,000 bookings, and to run a whole first sync of it against
    a local server (200 of its stays are ahead, the rest history).

Servers run in processes of their own so client and servers do not share one interpreter.
The client is httpx with one client (and connection) per concurrent worker, made before the
clock starts: the load generator shares the machine's cores with the server, so what it
spends per request is taken from what it measures. With one pooled client the ceiling read
about 680 req/s on 2 cores where the bare app answers 1,600; each figure here is what the
server does, as far as a Python client on the same cores can tell.
Every answer is checked (new bookings ``accepted``, repeats ``unchanged``) and, once a server
has stopped, so is its database: one reservation and one grant per booking, one delivery per
request; nothing may be lost under load. ``--only webhooks`` or ``--only feed`` runs one half,
``--quick`` runs everything at tiny sizes in seconds, as ``make test`` does (PostgreSQL is
skipped there when it is not reachable).

Keep-alive: ``doorcode serve`` keeps idle connections ``DOORCODE_KEEP_ALIVE_SECONDS`` (65 s),
longer than this client's 5 s (httpx's default). When both were 5 s (uvicorn's default and
httpx's), a request sent on a connection idle for about 5 s met the server closing it on its
own timer: the request was never answered and the run died of ``httpx.ReadError``. The
client closing first is what makes the race impossible, so the client here keeps httpx's
default rather than a shorter one.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, insert, select

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
from doorcode.sources.webhook_signature import signed_headers, verify_doorcode
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.ids import new_id
from doorcode.store.models import Event, Grant, LockCode, Reservation, WebhookDelivery

POSTGRES_ADMIN_URL = os.environ.get(
    "DOORCODE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CORES = os.cpu_count() or 1
DOORCODE = Path(sys.executable).with_name("doorcode")


@dataclass(frozen=True)
class Scale:
    """How much traffic to send, how much to store first, and how big a calendar to read."""

    properties: int
    ceiling: int  # requests to the bare ASGI app at concurrency 16
    levels: tuple[tuple[int, int], ...]  # (concurrency, new bookings) on the empty database
    duplicates: tuple[int, int]  # (concurrency, repeats of the first bookings)
    stored: int  # bookings written in bulk before the "stored" run
    postgres: tuple[tuple[int, int], ...]  # (concurrency, new bookings) on PostgreSQL
    calendar: tuple[int, int]  # (events, of which from today on)


FULL = Scale(
    100,
    4000,
    ((1, 500), (16, 2000), (64, 3000)),
    (64, 3000),
    100_000,
    ((16, 2000), (64, 3000)),
    (10_000, 200),
)
QUICK = Scale(4, 32, ((1, 4), (16, 16), (64, 16)), (16, 16), 400, ((16, 16),), (40, 10))
STORED_LEVEL = 16
"""The concurrency at which the empty and the stored database are compared."""


def load_average() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def sqlite_settings(folder: Path, key: str) -> Settings:
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    return Settings(database_url=database_url, secret_key=key, data_dir=folder, log_level="WARNING")


@dataclass(frozen=True)
class World:
    """What the bench set up: the source to post to, its secret, the properties' ids."""

    source_id: str
    secret: str
    organisation_id: str
    properties: list[tuple[str, str]]  # (property id, its lock's id)


def prepare(settings: Settings, properties: int) -> World:
    """An organisation with ``properties`` properties, each with a lock, and a generic source."""
    runtime = bootstrap(settings)
    organisation = create_organisation(runtime.uow(), "bench", "Bench")
    owner = Caller(organisation.id, "bench", Role.OWNER)
    made = []
    for number in range(properties):
        details = PropertyDetails(f"Unit {number}", "Europe/London", external_id=f"unit-{number}")
        prop = add_property(runtime.uow(), owner, details)
        lock = add_lock(runtime.uow(), owner, LockDetails(f"Unit {number} door"))
        link_lock(runtime.uow(), owner, prop.id, lock.id)
        made.append((prop.id, lock.id))
    issued = add_source(runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))
    runtime.close()
    return World(issued.source.id, issued.secret, organisation.id, made)


def serve_app(settings: Settings, port: int) -> None:
    """doorcode's application as ``serve`` configures uvicorn, with the one background loop
    that serves the database (SQLite's checkpoints, ``store/wal_checkpoints.py``) and none
    of the others (lock sync, feeds, messages)."""
    from doorcode.cli.serving import server_config
    from doorcode.store.wal_checkpoints import run_checkpoints

    runtime = bootstrap(settings, migrate=False)
    app = create_app(runtime, [partial(run_checkpoints, runtime.engine)])
    uvicorn.Server(server_config(app, settings, "127.0.0.1", port)).run()


class SignedEcho:
    """The least an ASGI app can do with a signed webhook: read, verify, parse, answer 200."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if scope["path"] == "/healthz":
            answer = b"{}"
        else:
            headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
            verify_doorcode(self.secret, headers, body, datetime.now(UTC))
            document = json.loads(body)
            answer = json.dumps({"outcome": "accepted", "id": document["external_id"]}).encode()
        start = {"type": "http.response.start", "status": 200}
        start["headers"] = [(b"content-type", b"application/json")]
        await send(start)
        await send({"type": "http.response.body", "body": answer})


def serve_echo(settings: Settings, secret: str, port: int) -> None:
    """The ceiling's server: the bare app under the same uvicorn settings as doorcode's."""
    from doorcode.cli.serving import server_config

    echo: Any = SignedEcho(secret)
    uvicorn.Server(server_config(echo, settings, "127.0.0.1", port)).run()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def spawned(target: Callable[..., None], *args: Any) -> Iterator[str]:
    """A server in a process of its own; its base URL while it runs.

    Forked, not spawned: the child starts with everything this process imported, in a
    second or so, where a fresh interpreter took many on a loaded machine. The parent holds
    no threads nor open connections when it forks (each load runs and closes its own).
    """
    port = free_port()
    server = multiprocessing.get_context("fork").Process(
        target=target, args=(*args, port), daemon=True
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base, server.is_alive, seconds=120)
        yield base
    finally:
        server.terminate()
        server.join()


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

    def bodies(self, first: int, count: int) -> list[bytes]:
        return [self.body(number) for number in range(first, first + count)]


@dataclass(frozen=True)
class Measured:
    """One load: how many requests, how long, and each one's latency."""

    latencies: list[float]
    elapsed: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def post_all(
    url: str, secret: str, bodies: list[bytes], concurrency: int, outcome: str
) -> Measured:
    """POST every body, ``concurrency`` at a time, each answered 200 with ``outcome``."""
    return asyncio.run(_load(url, secret, bodies, concurrency, outcome))


async def _load(
    url: str, secret: str, bodies: list[bytes], concurrency: int, outcome: str
) -> Measured:
    """One client per connection, all made before the clock starts.

    One client with a pool of ``concurrency`` connections cost this process about 1 ms per
    request at 16 and 3.5 ms at 64 (its pool looks through every connection for each
    request), on the cores the server needs. Each client also builds a TLS context when
    made, ~20 ms of this loop's time: made inside the run, the first request of every
    connection waited for the others' (0.6-1.2 s at 64, the whole p99 there).
    """
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=one, timeout=120) for _ in range(concurrency)]

    async def worker(client: httpx.AsyncClient) -> None:
        async with client:
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

    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed = time.perf_counter() - started
    assert outcomes == {outcome: len(bodies)}, f"expected only {outcome}: {dict(outcomes)}"
    return Measured(latencies, elapsed)


def report(label: str, measured: Measured, versus: Measured | None = None) -> None:
    p50 = statistics.median(measured.latencies) * 1000
    line = (
        f"  {label:<38} {measured.rate:7.0f} req/s   p50 {p50:6.1f} ms   "
        f"p99 {measured.p99() * 1000:6.1f} ms"
    )
    if versus is not None:
        line += f"   {measured.rate / versus.rate:5.0%} of {versus.rate:.0f}"
    print(line, flush=True)


def webhooks(scale: Scale) -> None:
    where = f"{CORES} cores, {scale.properties} properties"
    print(f"signed webhooks on loopback, {where}; {load_average()}")
    key = Fernet.generate_key().decode()
    bookings = Bookings.from_today(scale.properties)
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
        settings = sqlite_settings(Path(empty), key)
        world = prepare(settings, scale.properties)
        stored = sqlite_settings(Path(full), key)
        shutil.copy(Path(empty) / "bench.sqlite3", Path(full) / "bench.sqlite3")
        with spawned(serve_echo, settings, world.secret) as base:
            ceiling = post_all(
                f"{base}/hook", world.secret, bookings.bodies(0, scale.ceiling), 16, "accepted"
            )
        report("ceiling: bare ASGI app, concurrency 16", ceiling)
        empty_rate = sqlite_run(settings, world, bookings, scale, ceiling)
        started = time.perf_counter()
        store_history(stored, world, scale.stored)
        print(
            f"  ({scale.stored:,} bookings written in bulk in "
            f"{time.perf_counter() - started:.0f} s; {load_average()})"
        )
        stored_run(stored, world, bookings, scale, empty_rate)
    postgres_run(key, bookings, scale)


def sqlite_run(
    settings: Settings, world: World, bookings: Bookings, scale: Scale, ceiling: Measured
) -> Measured:
    """New bookings at every level, then duplicates, on an empty SQLite database; the
    figure at ``STORED_LEVEL``."""
    print("doorcode on SQLite (the embedded default), one process:")
    url = f"/webhooks/reservations/{world.source_id}"
    first, at_level, requests = 0, None, 0
    with spawned(serve_app, settings) as base:
        for concurrency, count in scale.levels:
            measured = post_all(
                base + url, world.secret, bookings.bodies(first, count), concurrency, "accepted"
            )
            first, requests = first + count, requests + count
            versus = ceiling if concurrency == STORED_LEVEL else None
            report(f"new bookings, concurrency {concurrency}", measured, versus)
            if concurrency == STORED_LEVEL:
                at_level, new_rate = measured, measured
            new_rate = measured
        concurrency, count = scale.duplicates
        repeats = bookings.bodies(0, min(count, first))
        measured = post_all(base + url, world.secret, repeats, concurrency, "unchanged")
        requests += len(repeats)
        report(f"duplicates, concurrency {concurrency}", measured, new_rate)
    check_stored(settings.database_url, first, requests)
    assert at_level is not None, f"no level at concurrency {STORED_LEVEL}"
    return at_level


def stored_run(
    settings: Settings, world: World, bookings: Bookings, scale: Scale, empty: Measured
) -> None:
    """The empty database's level again, on one that holds ``scale.stored`` bookings."""
    count = dict(scale.levels)[STORED_LEVEL]
    url = f"/webhooks/reservations/{world.source_id}"
    with spawned(serve_app, settings) as base:
        measured = post_all(
            base + url, world.secret, bookings.bodies(0, count), STORED_LEVEL, "accepted"
        )
    label = f"{scale.stored:,} stored, concurrency {STORED_LEVEL}"
    report(label, measured, empty)
    check_stored(settings.database_url, scale.stored + count, count)


def store_history(settings: Settings, world: World, count: int) -> None:
    """``count`` bookings written straight into the tables, as the services would have left
    them: most are years of history (stays every three days, back from the day before
    yesterday), one in a hundred is in the coming weeks, before the run's own bookings.
    Each has its reservation, guest grant, lock code and two audit events."""
    cipher = CodeCipher([settings.secret_key.get_secret_value()])  # type: ignore[union-attr]
    rng = random.Random(16)
    now = datetime.now(UTC)
    today = now.date()
    rows: dict[Any, list[dict[str, Any]]] = {
        table: [] for table in (Reservation, Grant, LockCode, Event)
    }
    units = len(world.properties)
    upcoming = max(1, count // units // 100)
    engine = create_engine(settings.database_url)
    for number in range(count):
        unit, turn = number % units, number // units
        if turn < upcoming:  # the coming weeks: tomorrow on, three days apart
            check_in = today + timedelta(days=1 + 3 * turn)
        else:  # history: ended by the day before yesterday, three days apart
            check_in = today - timedelta(days=2 + 3 * (turn - upcoming + 1))
        _history_rows(rows, world, unit, f"H-{number}", check_in, cipher, rng, now)
        if len(rows[Reservation]) >= 5_000:
            _flush_rows(engine, rows)
    _flush_rows(engine, rows)
    engine.dispose()


def _history_rows(rows, world, unit, external_id, check_in, cipher, rng, now) -> None:
    property_id, lock_id = world.properties[unit]
    starts = datetime.combine(check_in, datetime.min.time(), UTC) + timedelta(hours=15)
    ends = starts + timedelta(days=2, hours=-4)
    reservation_id, grant_id = new_id("res"), new_id("grt")
    token = secrets.token_urlsafe(24)
    rows[Reservation].append(
        {
            "id": reservation_id,
            "organisation_id": world.organisation_id,
            "source": "pms",
            "external_id": external_id,
            "property_id": property_id,
            "status": "confirmed",
            "check_in": check_in,
            "check_out": check_in + timedelta(days=2),
            "starts_at": starts,
            "ends_at": ends,
            "guest_name": f"Guest {external_id}",
            "guest_email": f"{external_id.lower()}@example.org",
            "fingerprint": hashlib.sha256(external_id.encode()).hexdigest(),
            "created_at": now,
            "updated_at": now,
            "guide_token_digest": hashlib.sha256(token.encode()).hexdigest(),
            "guide_token_encrypted": cipher.encrypt(token),
        }
    )
    rows[Grant].append(
        {
            "id": grant_id,
            "organisation_id": world.organisation_id,
            "kind": "guest",
            "reservation_id": reservation_id,
            "property_id": property_id,
            "holder": f"Guest {external_id}",
            "code_token": cipher.encrypt(f"{rng.randrange(10**6):06d}"),
            "starts_at": starts,
            "ends_at": ends,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    rows[LockCode].append({"grant_id": grant_id, "lock_id": lock_id})
    for kind, subject in (
        ("ReservationRecorded", ("reservation", reservation_id)),
        ("GrantCreated", ("grant", grant_id)),
    ):
        rows[Event].append(
            {
                "organisation_id": world.organisation_id,
                "occurred_at": now,
                "actor": "source:pms",
                "kind": kind,
                "subject_type": subject[0],
                "subject_id": subject[1],
                "reason": "",
                "details": {},
            }
        )


def _flush_rows(engine: Any, rows: dict[Any, list[dict[str, Any]]]) -> None:
    with engine.begin() as connection:
        for table, values in rows.items():
            if values:
                connection.execute(insert(table), values)
            values.clear()


def postgres_run(key: str, bookings: Bookings, scale: Scale) -> None:
    """``doorcode serve --workers <cores>`` on a fresh PostgreSQL database."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        print(f"PostgreSQL: skipped, not reachable at {POSTGRES_ADMIN_URL}")
        return
    name = f"doorcode_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                database_url=url, secret_key=key, data_dir=Path(folder), log_level="WARNING"
            )
            world = prepare(settings, scale.properties)
            install_job_queue(url)
            with doorcode_serve(settings, CORES) as base:
                postgres_loads(base, url, world, bookings, scale)
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def postgres_loads(base: str, url: str, world: World, bookings: Bookings, scale: Scale) -> None:
    print(f"doorcode on PostgreSQL, `doorcode serve --workers {CORES}`; {load_average()}:")
    endpoint = f"{base}/webhooks/reservations/{world.source_id}"
    first, requests, new_rate = 0, 0, None
    for concurrency, count in scale.postgres:
        measured = post_all(
            endpoint, world.secret, bookings.bodies(first, count), concurrency, "accepted"
        )
        first, requests, new_rate = first + count, requests + count, measured
        report(f"new bookings, concurrency {concurrency}", measured)
    concurrency, count = scale.duplicates
    repeats = bookings.bodies(0, min(count, first))
    measured = post_all(endpoint, world.secret, repeats, concurrency, "unchanged")
    report(f"duplicates, concurrency {concurrency}", measured, new_rate)
    check_stored(url, first, requests + len(repeats))


def install_job_queue(url: str) -> None:
    """Procrastinate's tables, as the first ``doorcode worker`` would install them: ``serve``
    with ``DOORCODE_RUNNER=worker`` enqueues a lock pass after each commit."""
    from procrastinate import App, PsycopgConnector

    from doorcode.store.database import libpq_url
    from doorcode.sync.jobs import ensure_schema

    logging.getLogger("procrastinate").setLevel(logging.ERROR)  # "App in the main module"

    async def install() -> None:
        app = App(connector=PsycopgConnector(conninfo=libpq_url(url)))
        async with app.open_async():
            await ensure_schema(app)

    asyncio.run(install())


@contextmanager
def doorcode_serve(settings: Settings, workers: int) -> Iterator[str]:
    """``doorcode serve --workers`` as an operator starts it; its base URL while it runs."""
    port = free_port()
    environment = {
        **os.environ,
        "DOORCODE_DATABASE_URL": settings.database_url,
        "DOORCODE_SECRET_KEY": settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
        "DOORCODE_DATA_DIR": str(settings.data_dir),
        "DOORCODE_RUNNER": "worker",
        "DOORCODE_LOG_LEVEL": "WARNING",
        "XDG_CONFIG_HOME": str(settings.data_dir / "config"),
    }
    command = [str(DOORCODE), "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=environment, start_new_session=True)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base, lambda: server.poll() is None, seconds=120)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def check_stored(database_url: str, bookings: int, requests: int) -> None:
    """Stop unless each booking left one reservation and one grant, and each request its
    delivery record: nothing lost, nothing doubled."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        counts = {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model))
            for model in (Reservation, Grant, WebhookDelivery)
        }
    engine.dispose()
    print(
        f"  check: {counts['reservations']:,} reservations and {counts['grants']:,} grants for "
        f"{bookings:,} bookings, {counts['webhook_deliveries']:,} deliveries for {requests:,} "
        "requests",
        flush=True,
    )
    assert counts["reservations"] == counts["grants"] == bookings, "a booking was lost or doubled"
    assert counts["webhook_deliveries"] == requests, "a delivery was lost or doubled"


def wait_for(base: str, alive: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive():
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
        runtime = bootstrap(sqlite_settings(Path(folder), Fernet.generate_key().decode()))
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
