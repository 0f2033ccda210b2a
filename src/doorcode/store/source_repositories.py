"""Repositories for reservation sources: webhook sources and deliveries, feeds, PMS pushes.

Most methods take ``organisation_id`` first, like every tenant query. A few look across
organisations on purpose, and say so: the webhook route finds a source by the id in its URL
before anyone is authenticated, and the background loops (feed polling, the push outbox)
serve every organisation of the deployment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from doorcode.store.ids import new_id
from doorcode.store.models import (
    Event,
    Feed,
    FeedEntry,
    OutboxCursor,
    PushDelivery,
    Source,
    WebhookDelivery,
)
from doorcode.store.repositories import write_pending_events
from doorcode.store.row_holds import hold_row

__all__ = [
    "DeliveryFilter",
    "DeliveryRepository",
    "FeedRepository",
    "OutboxRepository",
    "PushFilter",
    "PushRepository",
    "SourceRepository",
    "SourceSigning",
]

DEFAULT_PAGE = 100
BOOKING_LOCKS = 0x62_6B_6E_67  # "bkng": the advisory-lock class of deliveries' booking holds


@dataclass(frozen=True, slots=True)
class SourceSigning:
    """A source as its webhook route needs it; the secret is still encrypted."""

    id: str
    organisation_id: str
    name: str
    kind: str
    secret_token: str = field(repr=False)


class SourceRepository:
    """Webhook sources of an organisation."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, source: Source) -> None:
        """Stage a new source."""
        self._session.add(source)

    def by_id(self, source_id: str) -> Source | None:
        """The source whose URL segment is ``source_id``, in any organisation."""
        return self._session.get(Source, source_id)

    def signing_of(self, source_id: str) -> SourceSigning | None:
        """What checking a delivery to ``source_id`` needs, in any organisation: one row read
        with no ORM object, since every webhook request starts with it."""
        row = self._session.connection().execute(_signing_of(), {"source_id": source_id}).first()
        if row is None:
            return None
        return SourceSigning(row.id, row.organisation_id, row.name, row.kind, row.secret_token)

    def get(self, organisation_id: str, source_id: str) -> Source | None:
        """The source with this id, if it belongs to the organisation."""
        source = self._session.get(Source, source_id)
        return source if source is not None and source.organisation_id == organisation_id else None

    def by_name(self, organisation_id: str, name: str) -> Source | None:
        """The organisation's source called ``name``."""
        query = select(Source).where(Source.organisation_id == organisation_id)
        return self._session.scalar(query.where(Source.name == name))

    def all(self, organisation_id: str) -> list[Source]:
        """The organisation's sources, by name."""
        query = select(Source).where(Source.organisation_id == organisation_id)
        return list(self._session.scalars(query.order_by(Source.name)))

    def queue_behind(self, source_id: str) -> None:
        """Wait for the source's other deliveries until this transaction ends, so a replay
        check or a new reservation never races a twin delivery of the same booking."""
        hold_row(self._session, Source.id, source_id)


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    """Which webhook deliveries a listing shows."""

    source_id: str | None = None
    outcome: str | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0


class DeliveryRepository:
    """Webhook deliveries, and the per-reservation ordering of a source's updates."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, delivery: WebhookDelivery) -> None:
        """Stage a delivery record."""
        self._session.add(delivery)

    def write(self, delivery: WebhookDelivery) -> None:
        """Write a complete delivery record now, in one INSERT outside the ORM's flush.

        Every webhook request ends with one; the record is never changed afterwards, so the
        session need not track it. Its id is made here if it has none.
        """
        if delivery.id is None:
            delivery.id = new_id("dlv")
        row = {
            column.key: getattr(delivery, column.key)
            for column in WebhookDelivery.__table__.columns
        }
        self._session.connection().execute(_INSERT_DELIVERY, row)

    def was_replayed(self, source_id: str, replay_key: str) -> bool:
        """Whether an authenticated delivery with this id and timestamp arrived before."""
        parameters = {"source_id": source_id, "replay_key": replay_key}
        return self._session.connection().execute(_replayed(), parameters).first() is not None

    def unproven_since(self, source_id: str, since: datetime, enough: int) -> int:
        """How many unauthenticated deliveries the source got since ``since``, up to ``enough``.

        Counting stops at ``enough``, so a flood costs the same to check as a trickle.
        """
        recent = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.source_id == source_id,
                WebhookDelivery.authenticated.is_(False),
                WebhookDelivery.received_at >= since,
            )
            .limit(enough)
            .subquery()
        )
        return self._session.scalar(select(func.count()).select_from(recent)) or 0

    def get(self, organisation_id: str, delivery_id: str) -> WebhookDelivery | None:
        """The delivery with this id, if it belongs to the organisation."""
        delivery = self._session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.organisation_id != organisation_id:
            return None
        return delivery

    def search(self, organisation_id: str, which: DeliveryFilter) -> list[WebhookDelivery]:
        """Deliveries matching ``which``, newest first."""
        query = select(WebhookDelivery).where(WebhookDelivery.organisation_id == organisation_id)
        if which.source_id:
            query = query.where(WebhookDelivery.source_id == which.source_id)
        if which.outcome:
            query = query.where(WebhookDelivery.outcome == which.outcome)
        query = query.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id)
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))

    def queue_behind_booking(self, source_id: str, external_id: str) -> None:
        """Wait for the other deliveries of this booking until this transaction ends, so a
        replay check, an ordering check or a new reservation never races a twin delivery.

        Deliveries of other bookings go ahead: on PostgreSQL the hold is a transaction-level
        advisory lock on (source, booking), taken whether or not the reservation exists yet.
        SQLite has one writer at a time anyway; there the source's row is held, which takes
        the database's write lock before the checks read anything.
        """
        if self._session.get_bind().dialect.name != "postgresql":
            hold_row(self._session, Source.id, source_id)
            return
        digest = hashlib.blake2b(f"{source_id}\n{external_id}".encode(), digest_size=4).digest()
        booking = int.from_bytes(digest, "big", signed=True)
        self._session.execute(select(func.pg_advisory_xact_lock(BOOKING_LOCKS, booking)))


class FeedRepository:
    """Calendar feeds and what each last said about its bookings."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, feed: Feed) -> None:
        """Stage a new feed."""
        self._session.add(feed)

    def get(self, organisation_id: str, feed_id: str) -> Feed | None:
        """The feed with this id, if it belongs to the organisation."""
        query = select(Feed).where(Feed.id == feed_id, Feed.organisation_id == organisation_id)
        return self._session.scalar(query.options(selectinload(Feed.property)))

    def all(self, organisation_id: str, property_id: str | None = None) -> list[Feed]:
        """The organisation's feeds (of one property if given), by name."""
        query = select(Feed).where(Feed.organisation_id == organisation_id)
        if property_id:
            query = query.where(Feed.property_id == property_id)
        query = query.options(selectinload(Feed.property)).order_by(Feed.name, Feed.id)
        return list(self._session.scalars(query))

    def due(self, at: datetime, limit: int) -> list[tuple[str, str]]:
        """(organisation id, feed id) of feeds due at ``at``, across organisations, oldest first."""
        query = select(Feed.organisation_id, Feed.id).where(Feed.next_poll_at <= at)
        rows = self._session.execute(query.order_by(Feed.next_poll_at).limit(limit))
        return [(row[0], row[1]) for row in rows]

    def claim(self, feed_id: str, due_by: datetime, next_poll_at: datetime) -> bool:
        """Take the feed's poll if it is still due; False when another worker took it first."""
        statement = (
            update(Feed)
            .where(Feed.id == feed_id, Feed.next_poll_at <= due_by)
            .values(next_poll_at=next_poll_at)
        )
        result: CursorResult[Any] = self._session.execute(statement)  # type: ignore[assignment]
        return bool(result.rowcount)

    def entry(self, feed_id: str, key: str) -> FeedEntry | None:
        """One remembered booking."""
        return self._session.get(FeedEntry, (feed_id, key))

    def entries(self, feed_id: str) -> dict[str, FeedEntry]:
        """The feed's remembered bookings, by key."""
        query = select(FeedEntry).where(FeedEntry.feed_id == feed_id)
        return {entry.key: entry for entry in self._session.scalars(query)}

    def add_entry(self, entry: FeedEntry) -> None:
        """Stage a remembered booking."""
        self._session.add(entry)

    def forget(self, feed_id: str, keys: Collection[str]) -> None:
        """Drop remembered bookings the feed no longer needs to watch."""
        if keys:
            statement = delete(FeedEntry).where(
                FeedEntry.feed_id == feed_id, FeedEntry.key.in_(sorted(keys))
            )
            self._session.execute(statement)


@dataclass(frozen=True, slots=True)
class PushFilter:
    """Which push deliveries a listing shows."""

    source_id: str | None = None
    status: str | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0


class PushRepository:
    """Grant changes waiting to be (or already) POSTed back to a PMS."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, push: PushDelivery) -> None:
        """Stage a push delivery."""
        self._session.add(push)

    def by_id(self, push_id: str) -> PushDelivery | None:
        """The push delivery with this id, in any organisation (for the sender loop)."""
        return self._session.get(PushDelivery, push_id)

    def known_events(self, event_ids: Collection[int]) -> set[tuple[str, int]]:
        """(source id, event id) pairs that already have a push delivery."""
        if not event_ids:
            return set()
        query = select(PushDelivery.source_id, PushDelivery.event_id).where(
            PushDelivery.event_id.in_(sorted(event_ids))
        )
        return {(row[0], row[1]) for row in self._session.execute(query)}

    def due(self, at: datetime, limit: int) -> list[PushDelivery]:
        """Pending pushes whose next attempt is due, across organisations, oldest first."""
        query = select(PushDelivery).where(
            PushDelivery.status == "pending", PushDelivery.next_attempt_at <= at
        )
        query = query.order_by(PushDelivery.next_attempt_at).limit(limit)
        return list(self._session.scalars(query))

    def search(self, organisation_id: str, which: PushFilter) -> list[PushDelivery]:
        """The organisation's pushes matching ``which``, newest first."""
        query = select(PushDelivery).where(PushDelivery.organisation_id == organisation_id)
        if which.source_id:
            query = query.where(PushDelivery.source_id == which.source_id)
        if which.status:
            query = query.where(PushDelivery.status == which.status)
        query = query.order_by(PushDelivery.created_at.desc(), PushDelivery.id)
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))


class OutboxRepository:
    """Reading the audit log in order, for processors that act on what happened."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def position(self, name: str) -> int:
        """The id of the last event the processor ``name`` has settled."""
        cursor = self._session.get(OutboxCursor, name)
        return cursor.last_event_id if cursor is not None else 0

    def advance(self, name: str, event_id: int) -> None:
        """Move the processor's position forward to ``event_id``."""
        cursor = self._session.get(OutboxCursor, name)
        if cursor is None:
            self._session.add(OutboxCursor(name=name, last_event_id=event_id))
        elif event_id > cursor.last_event_id:
            cursor.last_event_id = event_id

    def events_after(self, event_id: int, kinds: Collection[str], limit: int) -> list[Event]:
        """Events of ``kinds`` with ids above ``event_id``, across organisations, in id order."""
        write_pending_events(self._session)
        query = select(Event).where(Event.id > event_id, Event.kind.in_(sorted(kinds)))
        return list(self._session.scalars(query.order_by(Event.id).limit(limit)))


# Read by every webhook delivery; built once, on first use (not at import: see repositories).


@cache
def _replayed() -> Select[str]:
    return (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.source_id == bindparam("source_id"),
            WebhookDelivery.replay_key == bindparam("replay_key"),
        )
        .limit(1)
    )


@cache
def _signing_of() -> Select[str, str, str, str, str]:
    columns = (Source.id, Source.organisation_id, Source.name, Source.kind, Source.secret_token)
    return select(*columns).where(Source.id == bindparam("source_id"))


_INSERT_DELIVERY = insert(WebhookDelivery.__table__)  # type: ignore[arg-type]
