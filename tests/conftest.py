"""Shared fixtures: a controllable clock, and databases on SQLite and (when reachable) PostgreSQL.

Migrations run once per test session into a template; each test then gets a fresh copy (SQLite)
or freshly emptied tables in a database of its own run (PostgreSQL), so tests stay independent
and the migrations themselves are exercised on both engines.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import psycopg
import pytest
from cryptography.fernet import Fernet
from hypothesis import settings
from sqlalchemy import text

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.logs import HANDLER_NAME
from doorcode.runtime import Runtime
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.database import create_database_engine, libpq_url
from doorcode.store.migrate import upgrade
from doorcode.store.models import Base

settings.register_profile("doorcode", deadline=None, print_blob=True)
settings.load_profile("doorcode")

POSTGRES_ADMIN_URL = os.environ.get(
    "DOORCODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_KEY = Fernet.generate_key().decode()


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """Take away the log handler a command under test installed, and the level it set.

    A command run by the CLI runner binds doorcode's handler to the runner's stderr, which is
    closed when the command returns. Left in place, every later log line in that test process
    fails with a "Logging error" printed into whatever output is being captured at the time,
    another test's CLI output included.
    """
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def database_now(url: str) -> datetime:
    """PostgreSQL's own ``now()``: the clock Procrastinate schedules by, which no test moves."""
    with psycopg.connect(libpq_url(url), connect_timeout=3) as connection:
        row = connection.execute("SELECT now()").fetchone()
    assert row is not None
    instant: datetime = row[0]
    return instant.astimezone(UTC)


@pytest.fixture
def database_clock(postgres_url: str) -> FakeClock:
    """A fake clock that starts at the database's real time, at 09:00 of its day.

    For tests where the code under test meets a clock no test controls (Procrastinate decides
    what is ready with PostgreSQL's ``now()``): a pinned date would be in that clock's past on
    every later day, so jobs scheduled "later" run at once, and drains never end. 09:00 keeps
    the tests' times of day; a run started after 09:00 anchors to the next day instead, so
    nothing the test schedules "today" is in the database's past.
    """
    now = database_now(postgres_url)
    nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return FakeClock(nine if nine > now else nine + timedelta(days=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "doorcode.sqlite3"
    engine = create_database_engine(f"sqlite:///{path}")
    upgrade(engine, CodeCipher([TEST_KEY]))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    name = f"doorcode_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_database_engine(url)
    upgrade(engine, CodeCipher([TEST_KEY]))
    engine.dispose()
    yield url
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def _empty_postgres(url: str) -> None:
    """Truncate the tables the last test wrote to; truncating every table costs ~5 ms each."""
    engine = create_database_engine(url)
    probes = " UNION ALL ".join(
        f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM \"{table.name}\")"
        for table in Base.metadata.sorted_tables
    )
    with engine.begin() as connection:
        used = [f'"{name}"' for name in connection.execute(text(probes)).scalars()]
        if used:
            connection.execute(text(f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "doorcode.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


def make_runtime(url: str, clock: FakeClock, data_dir: Path) -> Runtime:
    """A runtime with a fresh in-memory virtual lock cloud on the test's clock."""
    settings = Settings(database_url=url, secret_key=TEST_KEY, data_dir=data_dir)
    providers = ProviderRegistry([VirtualLockProvider(VirtualCloud(clock, rng=Random(7)))])
    return bootstrap(
        settings, clock=clock, rng=Random(20261123), migrate=False, providers=providers
    )


@pytest.fixture
def runtime(sqlite_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on SQLite only: for tests about behaviour above the store."""
    built = make_runtime(sqlite_url, clock, tmp_path)
    yield built
    built.close()


@pytest.fixture
def any_runtime(database_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on each database engine in turn: for store and lifecycle tests."""
    built = make_runtime(database_url, clock, tmp_path)
    yield built
    built.close()


@pytest.fixture(autouse=True)
def private_config_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The CLI remembers its installation in the user's config dir: never the real one here."""
    directory = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(directory))
    return directory / "doorcode"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~0.1 s a hash; tests make hundreds of them."""
    from argon2 import PasswordHasher

    from doorcode.services import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@pytest.fixture
def pg_runtime(postgres_url, clock, tmp_path):
    _empty_postgres(postgres_url)
    runtime = make_runtime(postgres_url, clock, tmp_path)
    yield runtime
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
        has_jobs = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0]
        if has_jobs:
            connection.execute("TRUNCATE procrastinate_jobs CASCADE")
    runtime.close()


@pytest.fixture(scope="session")
def seam_peer_session():
    """Seam's own fake on 127.0.0.1, started once per session (``tests/peers/seam.py``)."""
    from tests.peers.seam import start_seam_peer

    yield from start_seam_peer()


@pytest.fixture
def seam_peer(seam_peer_session):
    """The fake, emptied of devices and codes before the test."""
    seam_peer_session.reset()
    return seam_peer_session


@pytest.fixture(scope="session")
def zwave_peer_session():
    """The real zwave-js driver with three simulated 30-slot locks (``tests/peers/zwave.py``)."""
    from tests.peers.zwave import start_zwave_peer

    yield from start_zwave_peer()


@pytest.fixture
def zwave_peer(zwave_peer_session):
    """The Z-Wave peer with every lock empty, alive and without quirks before the test."""
    zwave_peer_session.reset()
    return zwave_peer_session
