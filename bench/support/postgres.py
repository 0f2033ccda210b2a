"""A throw-away PostgreSQL database for one benchmark run (``DOORCODE_BENCH_POSTGRES_URL``).

The server is the one the tests use (127.0.0.1:5432, user postgres, trust, by default); each
run makes a database with a unique name and drops it afterwards, so engineers benchmarking at
once never meet.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg

SERVER = os.environ.get(
    "DOORCODE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def reachable() -> bool:
    """Whether the server answers (a benchmark prints that it skipped PostgreSQL otherwise)."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new empty database's URL; dropped (its connections ended) when the block ends."""
    name = f"doorcode_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = SERVER.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
