"""Making writers of the same row take turns, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, bindparam, update
from sqlalchemy.orm import InstrumentedAttribute, Session

__all__ = ["hold_row"]

_SQLITE_WRITER = "doorcode.sqlite_writer"
"""``session.info`` key: the transaction that holds SQLite's write lock through a hold."""


def hold_row(session: Session, key: InstrumentedAttribute[str], row_id: str) -> None:
    """Make every other transaction that holds this row wait until this one ends.

    An UPDATE that changes nothing holds the row on PostgreSQL and the single write lock on
    SQLite (which has no row locks and ignores ``FOR UPDATE``), and the reads after it see
    whatever the other transaction committed. For read-then-write decisions that no unique
    constraint guards: a booking's first delivery, a code that must differ from the others.

    On SQLite the first hold of a transaction takes the whole database, so a second one
    would wait for nothing: it is not sent (a webhook delivery holds its source, then its
    property).
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    transaction = session.get_transaction()  # None until the session's first statement
    if sqlite and transaction is not None and session.info.get(_SQLITE_WRITER) is transaction:
        return
    model: type[Any] = key.class_  # type: ignore[assignment]  # a mapped class, never an alias
    # Through the connection: the statement changes nothing the session holds, so the ORM's
    # update machinery (and an autoflush) would be CPU spent for nothing on every delivery.
    session.connection().execute(_hold_statement(model, key.key), {"row_id": row_id})
    if sqlite:
        session.info[_SQLITE_WRITER] = session.get_transaction()


_HOLDS: dict[tuple[str, str], Update] = {}


def _hold_statement(model: type[Any], name: str) -> Update:
    """The hold's UPDATE for one kind of row, built once: it runs on every delivery."""
    built = _HOLDS.get((model.__name__, name))
    if built is None:
        key = getattr(model, name)
        statement = update(model).where(key == bindparam("row_id")).values({name: key})
        built = _HOLDS[(model.__name__, name)] = statement.execution_options(
            synchronize_session=False
        )
    return built
