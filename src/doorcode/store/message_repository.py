"""Guest messages in the store: templates, rules, messages, deliveries, and the outbox cursor.

The planner and the dispatcher work across organisations (they serve every tenant), so the
queries that feed them are not scoped; every query that answers a caller takes the
organisation id first, as everywhere else in ``store/``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Update, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from doorcode.store.models import (
    Event,
    Grant,
    Message,
    MessageAttempt,
    MessageDelivery,
    MessageRule,
    MessageTemplate,
    OutboxCursor,
)
from doorcode.store.repositories import write_pending_events

__all__ = ["MessageFilter", "MessageRepository", "TemplateFilter"]

CODES_SET = "GrantCodesSet"


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which rows of the notification log a listing shows."""

    reservation_id: str | None = None
    status: str | None = None
    channel: str | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TemplateFilter:
    """Which saved templates a listing shows; ``property_id=""`` means account-wide only."""

    property_id: str | None = None
    purpose: str | None = None
    channel: str | None = None
    locale: str | None = None


class MessageRepository:
    """Everything guest messages keep in the database."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # Templates

    def templates(self, organisation_id: str, which: TemplateFilter) -> list[MessageTemplate]:
        """Saved templates matching ``which``, account-wide first."""
        query = select(MessageTemplate).where(MessageTemplate.organisation_id == organisation_id)
        if which.property_id == "":
            query = query.where(MessageTemplate.property_id.is_(None))
        elif which.property_id is not None:
            query = query.where(MessageTemplate.property_id == which.property_id)
        for column, value in (
            (MessageTemplate.purpose, which.purpose),
            (MessageTemplate.channel, which.channel),
            (MessageTemplate.locale, which.locale),
        ):
            if value is not None:
                query = query.where(column == value)
        order = (
            MessageTemplate.property_id.is_not(None),
            MessageTemplate.property_id,
            MessageTemplate.purpose,
            MessageTemplate.channel,
            MessageTemplate.locale,
        )
        return list(self._session.scalars(query.order_by(*order)))

    def template_candidates(
        self,
        organisation_id: str,
        property_id: str | None,
        purpose: str,
        channel: str,
        locales: Collection[str],
    ) -> list[MessageTemplate]:
        """Saved templates that could serve a message: the property's and the account's."""
        owners: list[ColumnElement[bool]] = [MessageTemplate.property_id.is_(None)]
        if property_id is not None:
            owners.append(MessageTemplate.property_id == property_id)
        query = select(MessageTemplate).where(
            MessageTemplate.organisation_id == organisation_id,
            MessageTemplate.purpose == purpose,
            MessageTemplate.channel == channel,
            MessageTemplate.locale.in_(sorted(locales)),
            or_(*owners),
        )
        return list(self._session.scalars(query))

    def add_template(self, template: MessageTemplate) -> None:
        """Stage a new template."""
        self._session.add(template)

    def delete_template(self, template: MessageTemplate) -> None:
        """Remove a template; messages fall back to the next one in line."""
        self._session.delete(template)

    # Rules

    def rule_of(self, property_id: str) -> MessageRule | None:
        """The property's own rules, if it has any."""
        return self._session.get(MessageRule, property_id)

    def add_rule(self, rule: MessageRule) -> None:
        """Stage a property's first rules."""
        self._session.add(rule)

    # Messages

    def add(self, message: Message) -> None:
        """Stage a new message."""
        self._session.add(message)

    def get(self, message_id: str) -> Message | None:
        """A message by id, in any organisation (for the dispatcher)."""
        return self._session.get(Message, message_id)

    def of_grant(self, grant_id: str) -> list[Message]:
        """Every message ever planned for a grant, oldest version first, deliveries loaded."""
        query = select(Message).where(Message.grant_id == grant_id)
        query = query.options(selectinload(Message.deliveries))
        return list(self._session.scalars(query.order_by(Message.grant_version, Message.id)))

    def due(
        self, now: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[tuple[datetime, str]]:
        """(due_at, id) of scheduled messages that are due, or whose alert moment has come.

        In (due_at, id) order, starting after ``after``: a caller pages through all of them
        with the last key of each page, so messages that must keep waiting (for their code,
        a contact or a channel) never hide the ones behind them.
        """
        alert_due = and_(Message.alert_at <= now, Message.alerted_at.is_(None))
        query = select(Message.due_at, Message.id).where(
            Message.status == "scheduled", or_(Message.due_at <= now, alert_due)
        )
        if after is not None:
            due_at, message_id = after
            query = query.where(
                or_(
                    Message.due_at > due_at,
                    and_(Message.due_at == due_at, Message.id > message_id),
                )
            )
        query = query.order_by(Message.due_at, Message.id).limit(limit)
        return [(due_at, message_id) for due_at, message_id in self._session.execute(query)]

    def mark_dispatched(self, message_id: str, now: datetime) -> bool:
        """Move a message from scheduled to dispatched; False if someone else did it first."""
        statement = (
            update(Message)
            .where(Message.id == message_id, Message.status == "scheduled")
            .values(status="dispatched", reason="", updated_at=now)
        )
        return _changed_one(self._session, statement)

    def unplanned_guest_grants(self, now: datetime, limit: int) -> list[Grant]:
        """Guest grants with a stay still ahead and no message for their current version.

        The level-triggered safety net behind the event cursor: whatever events were missed,
        every such grant gets planned on the next pass.
        """
        planned = exists().where(
            Message.grant_id == Grant.id, Message.grant_version == Grant.version
        )
        query = select(Grant).where(
            Grant.kind == "guest",
            Grant.reservation_id.is_not(None),
            Grant.revoked_at.is_(None),
            Grant.ends_at > now,
            ~planned,
        )
        return list(self._session.scalars(query.order_by(Grant.starts_at).limit(limit)))

    # Deliveries

    def add_delivery(self, delivery: MessageDelivery) -> None:
        """Stage a delivery; its idempotency key is unique, so a second one cannot exist."""
        self._session.add(delivery)

    def delivery(self, delivery_id: str) -> MessageDelivery | None:
        """A delivery by id, in any organisation (for the dispatcher)."""
        return self._session.get(MessageDelivery, delivery_id)

    def owned_delivery(self, organisation_id: str, delivery_id: str) -> MessageDelivery | None:
        """A delivery of the organisation, its message and attempts loaded."""
        query = select(MessageDelivery).where(
            MessageDelivery.id == delivery_id, MessageDelivery.organisation_id == organisation_id
        )
        query = query.options(
            selectinload(MessageDelivery.message), selectinload(MessageDelivery.attempt_log)
        )
        return self._session.scalar(query)

    def due_deliveries(self, now: datetime, limit: int) -> list[str]:
        """Ids of queued deliveries whose next attempt is due."""
        query = select(MessageDelivery.id).where(
            MessageDelivery.status == "queued", MessageDelivery.next_attempt_at <= now
        )
        order = (MessageDelivery.next_attempt_at, MessageDelivery.id)
        return list(self._session.scalars(query.order_by(*order).limit(limit)))

    def claim(self, delivery_id: str, now: datetime) -> bool:
        """Take a queued delivery for sending; False if another worker took it first."""
        statement = (
            update(MessageDelivery)
            .where(MessageDelivery.id == delivery_id, MessageDelivery.status == "queued")
            .values(status="sending", claimed_at=now, updated_at=now)
        )
        return _changed_one(self._session, statement)

    def abandoned(self, claimed_before: datetime, limit: int) -> list[str]:
        """Ids of deliveries still marked as sending by a process that must have stopped."""
        query = select(MessageDelivery.id).where(
            MessageDelivery.status == "sending", MessageDelivery.claimed_at < claimed_before
        )
        return list(self._session.scalars(query.limit(limit)))

    def add_attempt(self, attempt: MessageAttempt) -> None:
        """Stage one attempt's log entry."""
        self._session.add(attempt)

    def attempt(self, attempt_id: int) -> MessageAttempt | None:
        """An attempt by id."""
        return self._session.get(MessageAttempt, attempt_id)

    def open_attempt(self, delivery_id: str) -> MessageAttempt | None:
        """The delivery's attempt that started and never finished, if any."""
        query = select(MessageAttempt).where(
            MessageAttempt.delivery_id == delivery_id, MessageAttempt.finished_at.is_(None)
        )
        return self._session.scalar(query.order_by(MessageAttempt.number.desc()).limit(1))

    # The notification log

    def search(
        self, organisation_id: str, which: MessageFilter
    ) -> list[tuple[Message, MessageDelivery | None]]:
        """Messages and their deliveries (one row each; none yet means one row), newest first."""
        query = (
            select(Message, MessageDelivery)
            .outerjoin(MessageDelivery, MessageDelivery.message_id == Message.id)
            .where(Message.organisation_id == organisation_id)
        )
        if which.reservation_id:
            query = query.where(Message.reservation_id == which.reservation_id)
        if which.channel:
            query = query.where(MessageDelivery.channel == which.channel)
        if which.status:
            status = func.coalesce(MessageDelivery.status, Message.status)
            query = query.where(status == which.status)
        query = query.options(selectinload(MessageDelivery.attempt_log))
        query = query.order_by(Message.due_at.desc(), Message.id, MessageDelivery.channel)
        rows = self._session.execute(query.limit(which.limit).offset(which.offset))
        return [(message, delivery) for message, delivery in rows]

    # Events

    def events_after(self, last_event_id: int, kinds: Sequence[str], limit: int) -> list[Event]:
        """Events of ``kinds`` recorded after ``last_event_id``, in every organisation, in order."""
        write_pending_events(self._session)
        query = select(Event).where(Event.id > last_event_id, Event.kind.in_(sorted(kinds)))
        return list(self._session.scalars(query.order_by(Event.id).limit(limit)))

    def code_set_versions(self, organisation_id: str, grant_id: str) -> set[int]:
        """Versions of the grant the lock-sync reconciler reported as on every lock."""
        write_pending_events(self._session)
        query = select(Event.details).where(
            Event.organisation_id == organisation_id,
            Event.subject_type == "grant",
            Event.subject_id == grant_id,
            Event.kind == CODES_SET,
        )
        versions = (_version_in(details) for details in self._session.scalars(query))
        return {version for version in versions if version is not None}

    def outbox(self, name: str) -> OutboxCursor:
        """The named event cursor, locked for this transaction; created at zero if new."""
        query = select(OutboxCursor).where(OutboxCursor.name == name).with_for_update()
        cursor = self._session.scalar(query)
        if cursor is None:
            cursor = OutboxCursor(name=name, last_event_id=0)
            self._session.add(cursor)
            self._session.flush()
        return cursor


def _changed_one(session: Session, statement: Update) -> bool:
    """Run a guarded UPDATE; True when it changed exactly the one row it was aimed at."""
    result = session.execute(statement)
    return bool(getattr(result, "rowcount", 0) == 1)


def _version_in(details: object) -> int | None:
    if not isinstance(details, dict):
        return None
    after = details.get("after")
    version = after.get("version") if isinstance(after, dict) else None
    return version if isinstance(version, int) else None
