"""Access events and lock health as stored: append-only rows, per-lock cursors, samples.

An event is inserted with "on conflict do nothing" on (lock, event id): a replay, or two
deliveries of one event racing each other, leave one row, and only the delivery that wrote
it is told so (``add_new`` answers None to the others). Both SQLite and PostgreSQL speak
that statement, so the guarantee holds on either engine without a lock of our own.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from doorcode.store.models import (
    AccessCursor,
    AccessEventRow,
    Grant,
    Lock,
    LockCode,
    LockHealthSample,
    Reservation,
    property_locks,
)

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

__all__ = ["AccessEventFilter", "AccessRepository", "NewAccessEvent"]

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class NewAccessEvent:
    """An event to store, already resolved to our lock and (when ours) grant."""

    organisation_id: str
    lock_id: str
    event_id: str
    occurred_at: datetime
    outcome: str
    reason: str | None
    method: str
    code_ref: str | None
    grant_id: str | None
    via: str


@dataclass(frozen=True, slots=True)
class AccessEventFilter:
    """Which access events a listing shows, newest first."""

    lock_id: str | None = None
    grant_ids: Collection[str] | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


class AccessRepository:
    """Access events, polling cursors and health samples of locks."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_new(self, event: NewAccessEvent, received_at: datetime) -> AccessEventRow | None:
        """Store ``event`` unless the lock has it already; the new row, or None for a repeat."""
        values: dict[str, Any] = {
            "organisation_id": event.organisation_id,
            "lock_id": event.lock_id,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at,
            "outcome": event.outcome,
            "reason": event.reason,
            "method": event.method,
            "code_ref": event.code_ref,
            "grant_id": event.grant_id,
            "via": event.via,
            "received_at": received_at,
        }
        statement = (
            _insert_or_skip(self._session, AccessEventRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=["lock_id", "event_id"])
            .returning(AccessEventRow.id)
        )
        new_id = self._session.execute(statement).scalar_one_or_none()
        return None if new_id is None else self._session.get(AccessEventRow, new_id)

    def search(self, organisation_id: str, which: AccessEventFilter) -> list[AccessEventRow]:
        """The organisation's events matching ``which``, newest first."""
        query = (
            select(AccessEventRow)
            .where(AccessEventRow.organisation_id == organisation_id)
            .options(selectinload(AccessEventRow.lock), selectinload(AccessEventRow.grant))
        )
        if which.lock_id is not None:
            query = query.where(AccessEventRow.lock_id == which.lock_id)
        if which.grant_ids is not None:
            query = query.where(AccessEventRow.grant_id.in_(list(which.grant_ids)))
        if which.outcome is not None:
            query = query.where(AccessEventRow.outcome == which.outcome)
        if which.since is not None:
            query = query.where(AccessEventRow.occurred_at >= which.since)
        if which.until is not None:
            query = query.where(AccessEventRow.occurred_at < which.until)
        order = (AccessEventRow.occurred_at.desc(), AccessEventRow.id.desc())
        return list(self._session.scalars(query.order_by(*order).limit(min(which.limit, MAX_PAGE))))

    def count_refused(self, lock_id: str, since: datetime, until: datetime) -> int:
        """Refused attempts at the lock in [since, until]."""
        query = select(func.count(AccessEventRow.id)).where(
            AccessEventRow.lock_id == lock_id,
            AccessEventRow.outcome == "refused",
            AccessEventRow.occurred_at >= since,
            AccessEventRow.occurred_at <= until,
        )
        return int(self._session.scalar(query) or 0)

    def has_opening(self, grant_ids: Collection[str]) -> bool:
        """Whether any of the grants' codes has opened a door."""
        query = select(AccessEventRow.id).where(
            AccessEventRow.grant_id.in_(list(grant_ids)), AccessEventRow.outcome == "opened"
        )
        return self._session.scalar(query.limit(1)) is not None

    def cursor_of(self, lock_id: str) -> AccessCursor | None:
        """Where polling the lock stands."""
        return self._session.get(AccessCursor, lock_id)

    def save_cursor(self, lock_id: str, cursor: str | None, at: datetime) -> None:
        """Remember the back-end's cursor after a poll.

        One statement that inserts or updates: a keypad read and the background pass may both
        save a lock's first cursor at once, and neither may fail for it.
        """
        statement = _insert_or_skip(self._session, AccessCursor).values(
            lock_id=lock_id, cursor=cursor, polled_at=at
        )
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["lock_id"],
                set_={
                    "cursor": statement.excluded.cursor,
                    "polled_at": statement.excluded.polled_at,
                },
            )
        )

    def add_sample(self, sample: LockHealthSample) -> None:
        """Stage a health sample."""
        self._session.add(sample)

    def latest_sample(self, lock_id: str) -> LockHealthSample | None:
        """The lock's last reported health."""
        query = select(LockHealthSample).where(LockHealthSample.lock_id == lock_id)
        order = (LockHealthSample.observed_at.desc(), LockHealthSample.id.desc())
        return self._session.scalar(query.order_by(*order).limit(1))

    def latest_samples(self, organisation_id: str | None) -> dict[str, LockHealthSample]:
        """Each lock's last reported health, by lock id: one organisation's, or (None) all.

        Driven from the locks, one index lookup each (``lock_id, observed_at``): a year of
        hourly samples is millions of rows, and grouping them all on every poll would not do.
        """
        newest = (
            select(func.max(LockHealthSample.observed_at))
            .where(LockHealthSample.lock_id == Lock.id)
            .correlate(Lock)
            .scalar_subquery()
        )
        locks = select(Lock.id.label("lock_id"), newest.label("observed_at"))
        if organisation_id is not None:
            locks = locks.where(Lock.organisation_id == organisation_id)
        latest = locks.subquery()
        query = (
            select(LockHealthSample)
            .join(
                latest,
                and_(
                    LockHealthSample.lock_id == latest.c.lock_id,
                    LockHealthSample.observed_at == latest.c.observed_at,
                ),
            )
            .order_by(LockHealthSample.id)
        )
        return {sample.lock_id: sample for sample in self._session.scalars(query)}

    def samples_since(self, lock_id: str, since: datetime) -> list[LockHealthSample]:
        """The lock's health history from ``since``, oldest first."""
        query = select(LockHealthSample).where(
            LockHealthSample.lock_id == lock_id, LockHealthSample.observed_at >= since
        )
        return list(self._session.scalars(query.order_by(LockHealthSample.observed_at)))

    def purge(self, before: datetime) -> int:
        """Delete events and health samples older than ``before``; how many rows went."""
        events = self._session.execute(
            delete(AccessEventRow).where(AccessEventRow.occurred_at < before)
        )
        samples = self._session.execute(
            delete(LockHealthSample).where(LockHealthSample.observed_at < before)
        )
        return int(getattr(events, "rowcount", 0)) + int(getattr(samples, "rowcount", 0))

    def pollable_locks(self, lock_id: str | None = None) -> list[Lock]:
        """Every lock of every organisation (or the one), for the poller, not for a caller."""
        query = select(Lock).order_by(Lock.id)
        if lock_id is not None:
            query = query.where(Lock.id == lock_id)
        return list(self._session.scalars(query))

    def busy_lock_ids(self, since: datetime, until: datetime) -> set[str]:
        """Locks holding, or about to hold, a code whose window meets ``[since, until]`` (a
        code revoked before ``since`` no longer counts).

        Walks ``ix_grants_ending`` from ``since``: history is skipped, whatever its size.
        """
        query = (
            select(LockCode.lock_id)
            .join(Grant, Grant.id == LockCode.grant_id)
            .where(
                Grant.ends_at > since,
                Grant.starts_at < until,
                or_(Grant.revoked_at.is_(None), Grant.revoked_at > since),
            )
            .distinct()
        )
        return set(self._session.scalars(query))

    def cursors(self) -> dict[str, AccessCursor]:
        """Every lock's access cursor and when it was last asked, by lock id (one statement)."""
        return {row.lock_id: row for row in self._session.scalars(select(AccessCursor))}

    def mark_asked(self, lock_ids: Collection[str], at: datetime) -> None:
        """Record that the locks answered the access pass at ``at`` with nothing new to store."""
        ordered = sorted(lock_ids)
        for start in range(0, len(ordered), _IDS_PER_STATEMENT):
            chunk = ordered[start : start + _IDS_PER_STATEMENT]
            self._session.execute(
                update(AccessCursor).where(AccessCursor.lock_id.in_(chunk)).values(polled_at=at)
            )

    def grant_on_lock(self, grant_id: str, lock_id: str) -> Grant | None:
        """The grant, if it is doorcode's and the lock is one of its locks."""
        query = (
            select(Grant)
            .join(LockCode, LockCode.grant_id == Grant.id)
            .where(Grant.id == grant_id, LockCode.lock_id == lock_id)
        )
        return self._session.scalar(query)

    def grant_by_code_id(self, lock_id: str, code_id: str, at: datetime) -> Grant | None:
        """The grant whose code on the lock had the back-end's id (or slot) ``code_id`` at ``at``.

        Among grants that held it, the one whose window holds ``at``; else the one whose window
        is nearest (a code typed during its lead time, or just after its end).
        """
        named = LockCode.provider_code_id == code_id
        if code_id.isdigit():
            named = or_(named, LockCode.slot == int(code_id))
        query = (
            select(Grant)
            .join(LockCode, LockCode.grant_id == Grant.id)
            .where(LockCode.lock_id == lock_id, named)
            .order_by(Grant.starts_at.desc())
            .limit(_SLOT_HOLDERS)
        )
        holders = list(self._session.scalars(query))
        return min(holders, key=lambda grant: _distance(grant, at), default=None)

    def stays_at_lock(self, lock_id: str, at: datetime) -> list[Reservation]:
        """Confirmed stays under way at ``at`` at a property this lock serves."""
        query = (
            select(Reservation)
            .join(property_locks, property_locks.c.property_id == Reservation.property_id)
            .where(
                property_locks.c.lock_id == lock_id,
                Reservation.status == "confirmed",
                Reservation.starts_at <= at,
                Reservation.ends_at > at,
            )
        )
        return list(self._session.scalars(query.order_by(Reservation.starts_at)))

    def next_arrival_at_lock(self, lock_id: str, now: datetime) -> Reservation | None:
        """The first confirmed stay starting after ``now`` at a property this lock serves."""
        query = (
            select(Reservation)
            .join(property_locks, property_locks.c.property_id == Reservation.property_id)
            .where(
                property_locks.c.lock_id == lock_id,
                Reservation.status == "confirmed",
                Reservation.starts_at > now,
            )
        )
        return self._session.scalar(query.order_by(Reservation.starts_at).limit(1))

    def stays_under_way(self, now: datetime, began_after: datetime) -> list[Reservation]:
        """Every organisation's confirmed stays under way at ``now`` that began after
        ``began_after`` (for the no-show check, which is about the arrival day only)."""
        query = select(Reservation).where(
            Reservation.status == "confirmed",
            Reservation.starts_at <= now,
            Reservation.starts_at > began_after,
            Reservation.ends_at > now,
        )
        return list(self._session.scalars(query.order_by(Reservation.starts_at)))

    def property_reports_access(self, property_id: str) -> bool:
        """Whether any lock of the property has ever reported an access event."""
        reported = exists().where(
            AccessEventRow.lock_id == property_locks.c.lock_id,
            property_locks.c.property_id == property_id,
        )
        return bool(self._session.scalar(select(reported)))


_IDS_PER_STATEMENT = 500
"""Lock ids bound in one ``IN``: well under SQLite's limit on parameters."""
_SLOT_HOLDERS = 20
"""How many past holders of one code id or slot to weigh; older ones are long gone."""


def _distance(grant: Grant, at: datetime) -> timedelta:
    """How far ``at`` lies outside the time the grant held its code (zero inside it).

    A revoked grant held it until its revocation: a cancelled guest's slot, taken by the next
    guest the same day, must not credit the newcomer's openings to the cancelled stay.
    """
    ends_at = grant.ends_at
    if grant.revoked_at is not None and grant.revoked_at < ends_at:
        ends_at = grant.revoked_at
    if at < grant.starts_at:
        return grant.starts_at - at
    if at >= ends_at:
        return at - ends_at
    return timedelta(0)


def _insert_or_skip(session: Session, entity: type[Any]) -> PostgresqlInsert | SqliteInsert:
    """An INSERT that can skip or update on a conflict, in the database's own dialect.

    The dialect modules are imported here and not with the module: the PostgreSQL one alone
    costs a CLI listing on SQLite tens of milliseconds, and a listing never writes here.
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(entity)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(entity)
