"""Whether a database is at the newest migration, found without importing Alembic.

Every CLI command opens the database and must bring an old schema up to date first, but
Alembic (and the migration scripts it loads) takes longer to import than most commands take
to run. The chain is read from the ``revision``/``down_revision`` lines of the scripts instead;
when the database is at its head nothing else is needed, and anything else (an older schema,
an empty database, a chain these lines cannot describe) goes through Alembic as before.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

__all__ = ["database_revision", "is_current", "newest_revision"]

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r'^revision(?::[^=]*)?=\s*"([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?::[^=]*)?=\s*(?:"([^"]+)"|None)', re.MULTILINE)


def newest_revision(versions: Path = VERSIONS) -> str | None:
    """The one revision no other script builds on; None when there is not exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        source = script.read_text()
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            continue
        revisions.add(revision.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def database_revision(engine: Engine) -> str | None:
    """The revision the database says it is at (None for an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration (False whenever in doubt)."""
    newest = newest_revision()
    return newest is not None and database_revision(engine) == newest
