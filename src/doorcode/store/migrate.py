"""Schema migrations: ``doorcode db upgrade`` and ``serve`` bring any database to the newest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from doorcode.store.code_cipher import CodeCipher
from doorcode.store.database import normalised_url

__all__ = ["alembic_config", "downgrade", "is_current", "is_ours", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
JOB_QUEUE_PREFIX = "procrastinate_"


def is_ours(name: str | None, kind: str, _parents: object) -> bool:
    """Whether a database object is doorcode's to migrate (Alembic's ``include_name`` hook).

    On PostgreSQL the job queue (Procrastinate) keeps its tables in the same database and
    installs them itself; comparing schemas must neither see them nor propose dropping them.
    """
    return not (kind in ("table", "index") and (name or "").startswith(JOB_QUEUE_PREFIX))


def alembic_config(url: str) -> Config:
    """Alembic's configuration for ``url``, without needing an alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalised_url(url).replace("%", "%%"))
    return config


MIGRATION_LOCK = 0x646F6F72  # "door": any constant shared by every doorcode process


def upgrade(engine: Engine, cipher: CodeCipher) -> None:
    """Apply every migration the database has not seen yet.

    On PostgreSQL an advisory lock makes processes that start together (an API and several
    workers) migrate one after another instead of racing on the same DDL.

    ``cipher`` is the one the application runs with. A migration that moves a secret into or
    out of an encrypted column reads it from ``config.attributes["cipher"]``, so it uses
    exactly the keys the running service will instead of reading the settings a second way.
    Alembic is never run on its own (there is no alembic.ini), so every path passes here.
    """
    with _migrating(engine, cipher) as config:
        command.upgrade(config, "head")


def downgrade(engine: Engine, cipher: CodeCipher, revision: str) -> None:
    """Take the schema back to ``revision``, to roll a release back (no command does yet)."""
    with _migrating(engine, cipher) as config:
        command.downgrade(config, revision)


@contextmanager
def _migrating(engine: Engine, cipher: CodeCipher) -> Iterator[Config]:
    """Alembic's configuration over one connection in one transaction, set up to migrate.

    SQLite alters a table by copying it and dropping the original (Alembic's batch mode),
    and with foreign keys enforced, dropping a table that other rows point at fails: a
    reservation with a grant, a lock with codes. So enforcement is off while migrating,
    ``PRAGMA foreign_key_check`` proves afterwards that every reference still holds, and it
    is switched back on before the connection returns to the pool. SQLite ignores the pragma
    inside a transaction, hence the toggles around it.

    The whole run is one transaction on SQLite too, so a migration that fails (a downgrade's
    guard, a constraint) leaves the schema and its revision as they were. Python's sqlite3
    opens its implicit transaction only before a row is written: the DDL before that ran
    outside any transaction and stayed, half a table copy that blocked every later attempt.
    Here the driver's own transaction handling is off and the transaction begins explicitly.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _enforce_foreign_keys(connection, False)
        try:
            with _explicit_transactions(connection, sqlite), connection.begin():
                if sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                config.attributes["cipher"] = cipher
                yield config
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                _enforce_foreign_keys(connection, True)


@contextmanager
def _explicit_transactions(connection: Connection, sqlite: bool) -> Iterator[None]:
    """On SQLite, the driver leaves BEGIN to us for the block (commit and rollback still
    end what BEGIN opened); its usual handling is back before the connection is pooled."""
    if not sqlite:
        yield
        return
    driver = connection.connection.driver_connection
    previous = driver.isolation_level  # type: ignore[union-attr]
    driver.isolation_level = None  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.isolation_level = previous  # type: ignore[union-attr]


def _enforce_foreign_keys(connection: Connection, enforce: bool) -> None:
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforce else 'OFF'}")
    connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"migrating left rows pointing at nothing in: {', '.join(tables)}")


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
