"""The notification log, and the requests an operator can make about guest messages.

Listings show recipients masked; nothing here ever returns a rendered message, since a
rendered message holds a code.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorcode.domain.grants import GrantKind
from doorcode.domain.messages import ALERT_GRACE, DeliveryStatus, MessagePurpose, MessageStatus
from doorcode.notify.planner import obstacle_to, rules_for
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.message_repository import MessageFilter
from doorcode.store.models import Alert, Message, MessageDelivery
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "LogEntry",
    "announce_backup_code",
    "list_messages",
    "retry_delivery",
    "warnings_about",
]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One row of the notification log: a message, and one of its deliveries if it has any."""

    message: Message
    delivery: MessageDelivery | None

    @property
    def status(self) -> str:
        """The delivery's status, or the message's while it has no delivery."""
        return self.delivery.status if self.delivery is not None else self.message.status


def list_messages(uow: UnitOfWork, caller: Caller, which: MessageFilter) -> list[LogEntry]:
    """The organisation's notification log, newest due time first."""
    with uow:
        rows = uow.messages.search(caller.organisation_id, which)
        return [LogEntry(message, delivery) for message, delivery in rows]


def warnings_about(uow: UnitOfWork, caller: Caller, reservation_id: str) -> list[Alert]:
    """Open alerts on a reservation (no contact details, a message that did not go out)."""
    with uow:
        if uow.reservations.get(caller.organisation_id, reservation_id) is None:
            raise NotFound("reservation", reservation_id)
        return uow.alerts.open_alerts(caller.organisation_id, ("reservation", reservation_id))


def retry_delivery(uow: UnitOfWork, caller: Caller, delivery_id: str) -> LogEntry:
    """Send a failed or unknown delivery again, once someone has checked it is wanted.

    An ``unknown`` delivery may have reached the guest already: retrying it is the
    operator's decision, recorded in the audit log.
    """
    caller.require_writer()
    with uow:
        delivery = uow.messages.owned_delivery(caller.organisation_id, delivery_id)
        if delivery is None:
            raise NotFound("message delivery", delivery_id)
        if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN):
            raise InvalidRequest(
                f"only a failed or unknown delivery can be retried, not {delivery.status}"
            )
        record_event(
            uow,
            caller,
            ("message_delivery", delivery.id),
            "MessageRetryRequested",
            before={"status": delivery.status, "attempts": delivery.attempts},
        )
        delivery.status = DeliveryStatus.QUEUED.value
        delivery.next_attempt_at = uow.now
        delivery.last_error = f"retry requested by {caller.actor}"
        delivery.updated_at = uow.now
        uow.commit()
        return LogEntry(delivery.message, delivery)


def announce_backup_code(uow: UnitOfWork, caller: Caller, grant_id: str) -> Message | None:
    """Tell the guest their backup code, once it is on every lock (if the rules say so).

    Returns the message (the same one if announced before), or None when the property's
    rules say backup codes are not sent.
    """
    caller.require_writer()
    with uow:
        grant = uow.grants.get(caller.organisation_id, grant_id)
        if grant is None:
            raise NotFound("grant", grant_id)
        if grant.kind != GrantKind.BACKUP or grant.reservation is None:
            raise InvalidRequest("only a backup grant of a reservation has a backup code to send")
        obstacle = obstacle_to(grant, uow.now)
        if obstacle is not None:
            raise InvalidRequest(f"the backup code cannot be sent: {obstacle}")
        if not rules_for(uow, grant.reservation.property_id).on_backup_code:
            return None
        # A guest and their host pressing at once must not both write the message.
        uow.properties.hold(grant.reservation.property_id)
        for message in uow.messages.of_grant(grant.id):
            if message.grant_version == grant.version:
                return message
        message = Message(
            organisation_id=grant.organisation_id,
            grant_id=grant.id,
            reservation_id=grant.reservation_id,
            purpose=MessagePurpose.BACKUP_CODE.value,
            grant_version=grant.version,
            status=MessageStatus.SCHEDULED.value,
            reason="",
            due_at=uow.now,
            alert_at=uow.now + ALERT_GRACE,
            created_at=uow.now,
            updated_at=uow.now,
        )
        uow.messages.add(message)
        record_event(uow, caller, ("grant", grant.id), "BackupCodeAnnounced", "")
        uow.commit()
        return message
