"""Making writers of the same row take turns, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session

__all__ = ["hold_row"]


def hold_row(session: Session, key: InstrumentedAttribute[str], row_id: str) -> None:
    """Make every other transaction that holds this row wait until this one ends.

    An UPDATE that changes nothing holds the row on PostgreSQL and the single write lock on
    SQLite (which has no row locks and ignores ``FOR UPDATE``), and the reads after it see
    whatever the other transaction committed. For read-then-write decisions that no unique
    constraint guards: a booking's first delivery, a code that must differ from the others.
    """
    statement = update(key.class_).where(key == row_id).values({key.key: key})
    session.execute(statement.execution_options(synchronize_session=False))
