"""Which messages a grant calls for, kept in step with the grant: level-triggered, idempotent.

``plan_grant`` looks at a grant as it is now and makes its messages match, whatever
happened before and however often it is called:

* a guest grant whose stay is ahead has exactly one live message for its current version:
  the check-in instructions, or "access changed" if an earlier version's message may have
  reached the guest; it is ``skipped`` (with the reason) when the rules say not to send;
* messages about an older version that have not gone out are cancelled (superseded), as is
  everything not yet sent once the grant is revoked, the reservation is no longer confirmed
  or the stay is over;
* a guest with neither an email address nor a phone number raises a warning on the
  reservation, cleared when one is added.

Backup-code messages are only ever created by ``announce_backup_code``; the planner only
cancels them when they no longer apply.
"""

from __future__ import annotations

from datetime import datetime

from doorcode.domain.grants import GrantKind
from doorcode.domain.messages import (
    ChannelName,
    DeliveryStatus,
    MessagePurpose,
    MessageRules,
    MessageStatus,
    addresses_for,
    alert_moment,
    instructions_due,
)
from doorcode.domain.reservations import ReservationStatus
from doorcode.domain.windows import zone_named
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.store.models import Grant, Message, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "ALERT_NO_CHANNEL",
    "ALERT_UNDELIVERED",
    "ALERT_UNREACHABLE",
    "ALERT_WAITING",
    "obstacle_to",
    "plan_grant",
    "rules_for",
    "subject_of",
]

ALERT_UNREACHABLE = "GuestUnreachable"
ALERT_NO_CHANNEL = "GuestMessageHasNoChannel"
ALERT_WAITING = "GuestMessageWaitingForCode"
ALERT_UNDELIVERED = "GuestMessageNotDelivered"
GUEST_PURPOSES = (MessagePurpose.CHECK_IN_INSTRUCTIONS, MessagePurpose.ACCESS_CHANGED)
NOT_SENT_LATE = "booked after the send time, and the rules say not to send late"
NOT_SENT_ON_CHANGE = "the rules say not to send again when the code changes"


def plan_grant(uow: UnitOfWork, grant: Grant) -> Message | None:
    """Make ``grant``'s messages match its current state; returns its live guest message."""
    reservation = grant.reservation
    messages = uow.messages.of_grant(grant.id)
    obstacle = obstacle_to(grant, uow.now)
    for message in messages:
        if obstacle is not None:
            cancel_message(uow, message, obstacle)
        elif message.grant_version != grant.version:
            cancel_message(uow, message, f"superseded by version {grant.version}")
    if reservation is not None:
        _check_contact(uow, reservation, wanted=obstacle is None)
    if obstacle is not None or grant.kind != GrantKind.GUEST or reservation is None:
        return None
    current = [m for m in messages if m.grant_version == grant.version and _is_guest(m)]
    if current:
        _refresh(uow, current[0], grant, reservation)
        return current[0]
    message = _new_guest_message(uow, grant, reservation, messages)
    uow.messages.add(message)
    return message


def obstacle_to(grant: Grant, now: datetime) -> str | None:
    """Why no message about ``grant`` may go out any more, or None if messages still apply."""
    reservation = grant.reservation
    if grant.revoked_at is not None:
        return f"the grant was revoked ({grant.revoke_reason or 'no reason given'})"
    if reservation is not None and reservation.status != ReservationStatus.CONFIRMED:
        return f"the reservation is {reservation.status}"
    if grant.ends_at <= now:
        return "the stay is over"
    return None


def cancel_message(uow: UnitOfWork, message: Message, reason: str) -> None:
    """Stop whatever of ``message`` has not gone out yet; what was sent stays in the log."""
    if message.status in (MessageStatus.SCHEDULED, MessageStatus.SKIPPED):
        message.status = MessageStatus.CANCELLED.value
        message.reason = reason
        message.updated_at = uow.now
        # Nothing of it will go out, so nothing about it is waiting for the host any more.
        for kind in (ALERT_WAITING, ALERT_NO_CHANNEL):
            clear_alert(uow, message.organisation_id, kind, subject_of(message))
    for delivery in message.deliveries:
        if delivery.status == DeliveryStatus.QUEUED:
            delivery.status = DeliveryStatus.CANCELLED.value
            delivery.last_error = reason
            delivery.updated_at = uow.now


def subject_of(message: Message) -> tuple[str, str]:
    """What the alerts about ``message`` are about: its reservation, or else its grant."""
    if message.reservation_id is not None:
        return ("reservation", message.reservation_id)
    return ("grant", message.grant_id)


def rules_for(uow: UnitOfWork, property_id: str | None) -> MessageRules:
    """The property's rules, or the defaults when it has none of its own."""
    row = uow.messages.rule_of(property_id) if property_id else None
    if row is None:
        return MessageRules()
    return MessageRules(
        days_before=row.days_before,
        send_at=row.send_at,
        send_if_late=row.send_if_late,
        on_change=row.on_change,
        on_backup_code=row.on_backup_code,
        alert_hours=row.alert_hours,
    )


def _new_guest_message(
    uow: UnitOfWork, grant: Grant, reservation: Reservation, earlier: list[Message]
) -> Message:
    rules = rules_for(uow, reservation.property_id)
    told = any(_may_have_reached_the_guest(m) for m in earlier if _is_guest(m))
    message = Message(
        organisation_id=grant.organisation_id,
        grant_id=grant.id,
        reservation_id=reservation.id,
        grant_version=grant.version,
        status=MessageStatus.SCHEDULED.value,
        reason="",
        alert_at=alert_moment(grant.starts_at, rules, uow.now),
        created_at=uow.now,
        updated_at=uow.now,
    )
    if told:
        message.purpose = MessagePurpose.ACCESS_CHANGED.value
        message.due_at = uow.now
        if not rules.on_change:
            _skip(message, NOT_SENT_ON_CHANGE)
        return message
    message.purpose = MessagePurpose.CHECK_IN_INSTRUCTIONS.value
    zone = zone_named(reservation.property.time_zone)
    message.due_at = instructions_due(grant.starts_at, zone, rules)
    if message.due_at < uow.now and not rules.send_if_late:
        _skip(message, NOT_SENT_LATE)
    return message


def _refresh(uow: UnitOfWork, message: Message, grant: Grant, reservation: Reservation) -> None:
    """Follow rule changes while the message still waits (its lateness is decided once)."""
    if message.status != MessageStatus.SCHEDULED:
        return
    rules = rules_for(uow, reservation.property_id)
    if message.purpose == MessagePurpose.CHECK_IN_INSTRUCTIONS:
        due_at = instructions_due(
            grant.starts_at, zone_named(reservation.property.time_zone), rules
        )
        if due_at != message.due_at:
            message.due_at, message.updated_at = due_at, uow.now
    alert_at = alert_moment(grant.starts_at, rules, message.created_at)
    if message.alerted_at is None and alert_at != message.alert_at:
        message.alert_at, message.updated_at = alert_at, uow.now


def _check_contact(uow: UnitOfWork, reservation: Reservation, *, wanted: bool) -> None:
    """Warn on the reservation while a guest we must write to cannot be reached at all."""
    subject = ("reservation", reservation.id)
    reachable = addresses_for(reservation.guest_email, reservation.guest_phone, list(ChannelName))
    if wanted and not reachable:
        message = (
            "the guest has no email address or phone number (with its country code, +...), "
            "so no message with their code can reach them; add one to the reservation"
        )
        raise_alert(uow, reservation.organisation_id, ALERT_UNREACHABLE, subject, message)
    else:
        clear_alert(uow, reservation.organisation_id, ALERT_UNREACHABLE, subject)


def _skip(message: Message, reason: str) -> None:
    message.status = MessageStatus.SKIPPED.value
    message.reason = reason


def _may_have_reached_the_guest(message: Message) -> bool:
    """Whether the guest may hold this message: sent, being sent, or sent for all we know."""
    reached = (DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN)
    return any(delivery.status in reached for delivery in message.deliveries)


def _is_guest(message: Message) -> bool:
    return message.purpose in GUEST_PURPOSES
