"""Partial unique indexes keep their predicate on both engines; SQLite never loads PostgreSQL."""

import secrets
import subprocess
import sys

import psycopg
import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from doorcode.store.database import create_database_engine
from doorcode.store.models import Alert, Base, Grant, MessageTemplate

PREDICATES = {
    "uq_grants_one_guest_grant_per_reservation": "kind = 'guest'",
    "uq_alerts_one_open_per_subject": "cleared_at IS NULL",
    "uq_message_templates_one_account_wide": "property_id IS NULL",
    "uq_lock_codes_held_slot": "slot IS NOT NULL AND slot_released_at IS NULL",
}


def index_named(name: str):
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name == name:
                return index
    raise AssertionError(name)


def test_opening_sqlite_never_imports_the_postgresql_dialect(tmp_path):
    script = (
        "import sys\n"
        "from doorcode.store.database import create_database_engine\n"
        "from doorcode.store import models\n"
        f"create_database_engine('sqlite:///{tmp_path / 'x.sqlite3'}').connect().close()\n"
        "print('sqlalchemy.dialects.postgresql' in sys.modules)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "False"


def test_each_partial_index_has_its_predicate_on_sqlite():
    for name, predicate in [
        ("uq_grants_one_guest_grant_per_reservation", "kind = 'guest'"),
        ("uq_alerts_one_open_per_subject", "cleared_at IS NULL"),
        ("uq_message_templates_one_account_wide", "property_id IS NULL"),
        ("uq_lock_codes_held_slot", "slot IS NOT NULL AND slot_released_at IS NULL"),
    ]:
        ddl = str(CreateIndex(index_named(name)).compile(dialect=sqlite.dialect()))
        assert ddl.endswith(f"WHERE {predicate}"), ddl


def test_a_postgresql_engine_gives_each_partial_index_its_predicate():
    create_database_engine("postgresql://nobody@127.0.0.1:1/none").dispose()  # never connects
    for name, predicate in [
        ("uq_grants_one_guest_grant_per_reservation", "kind = 'guest'"),
        ("uq_alerts_one_open_per_subject", "cleared_at IS NULL"),
        ("uq_message_templates_one_account_wide", "property_id IS NULL"),
        ("uq_lock_codes_held_slot", "slot IS NOT NULL AND slot_released_at IS NULL"),
    ]:
        ddl = str(CreateIndex(index_named(name)).compile(dialect=postgresql.dialect()))
        assert ddl.endswith(f"WHERE {predicate}"), ddl
    assert {Grant.__tablename__, Alert.__tablename__, MessageTemplate.__tablename__} <= set(
        Base.metadata.tables
    )


@pytest.mark.postgres
def test_create_all_on_any_postgresql_engine_keeps_each_predicate(postgres_url):
    """In a process that never opened PostgreSQL through doorcode's engine factory."""
    server = postgres_url.rsplit("/", 1)[0]
    name = f"doorcode_plain_{secrets.token_hex(4)}"
    script = (
        "from sqlalchemy import create_engine\n"
        "from doorcode.store.models import Base\n"
        f"engine = create_engine('postgresql+psycopg://{server.split('://', 1)[1]}/{name}')\n"
        "Base.metadata.create_all(engine)\n"
        "engine.dispose()\n"
    )
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
            with psycopg.connect(f"{server}/{name}") as created:
                found = dict(
                    created.execute(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
                        (list(PREDICATES),),
                    ).fetchall()
                )
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert set(found) == set(PREDICATES)
    for definition in found.values():
        assert " WHERE " in definition, definition
