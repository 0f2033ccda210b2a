"""Engines for SQLite (the embedded default) and PostgreSQL (production), set up alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "AUTO_CHECKPOINT_PAGES",
    "create_database_engine",
    "create_session_factory",
    "database_trouble",
    "is_postgres",
    "libpq_url",
    "normalised_url",
]


POOL_SIZE = 16
"""Connections a process keeps open to PostgreSQL: as many as it runs webhook deliveries at
once (``api/webhooks.py``). With SQLAlchemy's default of 5, every connection past the fifth
was opened for one transaction and closed when it returned to the full pool: a new
PostgreSQL backend (a process fork and its authentication) per request under load."""


AUTO_CHECKPOINT_PAGES = 10_000
"""SQLite's log may grow to about 40 MB before a commit copies it into the database itself
(SQLite's default is 1,000 pages); ``serve`` copies it sooner, beside the writers
(``wal_checkpoints``)."""


BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another to finish before it gives up."""


def normalised_url(url: str) -> str:
    """``postgresql://`` URLs use psycopg 3, the driver doorcode ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    # ``postgres://`` (Heroku's and many hosts' form) is accepted as psycopg's too.
    return make_url(url).get_backend_name() in ("postgresql", "postgres")


def libpq_url(url: str) -> str:
    """The libpq form of ``url`` for clients outside SQLAlchemy (Procrastinate)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = normalised_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        from doorcode.store.models import describe_postgresql_partial_indexes

        describe_postgresql_partial_indexes()
        return create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE // 2
        )
    _make_sqlite_folder(url)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}
    )
    event.listen(engine, "connect", _tune_sqlite)
    return engine


BUSY = "database is locked"


def database_trouble(err: BaseException) -> str | None:
    """One line for an operator when the database refused a connection or stayed busy; None
    for any other error.

    Entry points outside ``store/`` know no SQLAlchemy: they ask here. The driver's first line
    names the host and the cause (libpq never prints the password); the URL is not repeated.
    """
    from sqlalchemy.exc import OperationalError

    if not isinstance(err, OperationalError):
        return None
    detail = (str(err.orig).strip().splitlines() or ["no answer"])[0]
    if BUSY in detail:
        return (
            f"the database is busy: another process kept it locked for {BUSY_TIMEOUT_SECONDS:g} "
            "seconds; nothing was written, try again when it is done"
        )
    return f"the database cannot be used: {detail}"


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the API renders them then)."""
    return sessionmaker(engine, expire_on_commit=False)


def _make_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTO_CHECKPOINT_PAGES}")
    cursor.close()
