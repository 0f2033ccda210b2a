"""The dispatcher: due messages become deliveries, and each delivery is sent at most once.

A due message whose code is on every lock becomes one delivery per configured channel that
can reach the guest. Each delivery's idempotency key, (grant, purpose, version, channel), is
stored then, before anything is sent, and is unique. Sending one delivery takes three steps:

1. **claim** (a transaction): a guarded update moves it from ``queued`` to ``sending``, so
   no two dispatchers can take it; an attempt is opened and the message rendered (the text
   with the code lives in memory only, never in the database);
2. **send**, outside any transaction;
3. **record** (a transaction): the attempt is closed and the delivery is ``sent`` (with the
   provider's id), ``queued`` again later (a transient failure, with backoff), ``failed``
   (with the reason) or ``unknown``.

If the process dies between 1 and 3, the delivery is left ``sending``. Once its claim is
older than the lease it is marked ``unknown`` and an alert is raised, and it is not sent
again: the provider may well have it, and a message must never reach a guest twice. An
operator who has checked can send it again (``doorcode messages retry``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from doorcode.domain.messages import (
    MAX_ATTEMPTS,
    ChannelName,
    DeliveryStatus,
    MessagePurpose,
    MessageStatus,
    addresses_for,
    idempotency_key,
    mask_recipient,
    next_attempt_at,
    recipient_masks,
    redact,
)
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.code_readiness import codes_set_everywhere
from doorcode.notify.errors import DeliveryError, OutcomeUnknown, TransientFailure
from doorcode.notify.facts import facts_for
from doorcode.notify.planner import (
    ALERT_NO_CHANNEL,
    ALERT_UNDELIVERED,
    ALERT_WAITING,
    cancel_message,
    obstacle_to,
    subject_of,
)
from doorcode.notify.sandbox import TemplateRenderError
from doorcode.notify.templates import choose_template, render_message, template_channel
from doorcode.notify.variables import locale_chain
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.store.models import Grant, Message, MessageAttempt, MessageDelivery
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["LEASE", "DispatchReport", "dispatch_due"]

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BATCH = 100
WAITING_FOR_CODE = "waiting for the code to be on every lock"
WAITING_FOR_CHANNEL = "waiting for a configured channel that can reach the guest"
WAITING_FOR_CONTACT = "waiting for the guest's email address or phone number"
RETRY = "retry"  # the outcome of an attempt that failed for now and will be tried again
ABANDONED = "the process stopped while sending; not sent again in case the guest has it"

NewUnitOfWork = Callable[[], UnitOfWork]


@dataclass
class DispatchReport:
    """What one pass did, for the CLI and the tests."""

    dispatched: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class _Claimed:
    """A delivery taken for sending, rendered; only ever in memory."""

    delivery_id: str
    attempt_id: int
    channel: ChannelName
    subject: tuple[str, str]
    outgoing: OutgoingMessage
    secrets: tuple[str, ...] = field(repr=False)


def dispatch_due(
    new_uow: NewUnitOfWork, channels: Mapping[ChannelName, Channel], public_url: str
) -> DispatchReport:
    """One pass: recover abandoned sends, dispatch due messages, send due deliveries."""
    report = DispatchReport()
    _recover_abandoned(new_uow, report)
    for message_id in _due_messages(new_uow):
        with _isolated("message", message_id):
            _dispatch(new_uow, message_id, channels, report)
    with new_uow() as uow:
        due_deliveries = uow.messages.due_deliveries(uow.now, BATCH)
    for delivery_id in due_deliveries:
        with _isolated("delivery", delivery_id):
            claimed = _claim(new_uow, delivery_id, channels, public_url, report)
            if claimed is not None:
                _record(new_uow, claimed, _send(channels[claimed.channel], claimed), report)
    return report


def _due_messages(new_uow: NewUnitOfWork) -> Iterator[str]:
    """Every due message, a page at a time.

    A message that must wait (for its code, the guest's contact details or a channel) stays
    scheduled with its due time in the past; paging past it, rather than taking only the
    first page, keeps any number of them from holding back the messages behind.
    """
    after: tuple[datetime, str] | None = None
    while True:
        with new_uow() as uow:
            page = uow.messages.due(uow.now, BATCH, after)
        for _, message_id in page:
            yield message_id
        if len(page) < BATCH:
            return
        after = page[-1]


@contextmanager
def _isolated(what: str, ident: str) -> Iterator[None]:
    """One message's bug must not keep every other guest waiting: log it and go on.

    Whatever it had not committed is rolled back, so it is tried again at the next pass.
    """
    try:
        yield
    except Exception:
        logger.exception(
            "dispatching %s %s failed; it is tried again at the next pass", what, ident
        )


def _dispatch(
    new_uow: NewUnitOfWork,
    message_id: str,
    channels: Mapping[ChannelName, Channel],
    report: DispatchReport,
) -> None:
    with new_uow() as uow:
        message = uow.messages.get(message_id)
        if message is None or message.status != MessageStatus.SCHEDULED:
            return
        grant = uow.grants.get(message.organisation_id, message.grant_id)
        obstacle = _obstacle(uow, message, grant)
        if obstacle is not None or grant is None:
            cancel_message(uow, message, obstacle or "the grant is gone")
            report.cancelled += 1
            uow.commit()
            return
        if not codes_set_everywhere(uow, grant):
            _wait_for_code(uow, message, grant)
        elif message.due_at <= uow.now:
            _make_deliveries(uow, message, grant, channels, report)
        uow.commit()


def _obstacle(uow: UnitOfWork, message: Message, grant: Grant | None) -> str | None:
    if grant is None:
        return "the grant is gone"
    if grant.reservation is None:
        return "the grant has no reservation to write to"
    if message.grant_version != grant.version:
        return f"superseded by version {grant.version}"
    return obstacle_to(grant, uow.now)


def _wait_for_code(uow: UnitOfWork, message: Message, grant: Grant) -> None:
    _note(uow, message, WAITING_FOR_CODE)
    if message.alert_at is None or message.alert_at > uow.now or message.alerted_at is not None:
        return
    text = (
        f"the {message.purpose.replace('_', ' ')} message (version {message.grant_version}) "
        f"cannot go out: the code is not on every lock yet; check-in is "
        f"{grant.starts_at:%Y-%m-%d %H:%M} UTC"
    )
    raise_alert(uow, message.organisation_id, ALERT_WAITING, subject_of(message), text)
    message.alerted_at = uow.now


def _make_deliveries(
    uow: UnitOfWork,
    message: Message,
    grant: Grant,
    channels: Mapping[ChannelName, Channel],
    report: DispatchReport,
) -> None:
    reservation = grant.reservation
    assert reservation is not None
    contact = (reservation.guest_email, reservation.guest_phone)
    addresses = addresses_for(*contact, channels)
    if not addresses:
        if not addresses_for(*contact, list(ChannelName)):
            _note(uow, message, WAITING_FOR_CONTACT)  # the planner's warning says so already
            return
        _note(uow, message, WAITING_FOR_CHANNEL)
        text = "no configured channel can reach the guest's email address or phone number"
        raise_alert(uow, message.organisation_id, ALERT_NO_CHANNEL, subject_of(message), text)
        return
    if not uow.messages.mark_dispatched(message.id, uow.now):
        return
    purpose = MessagePurpose(message.purpose)
    for channel, address in sorted(addresses.items()):
        uow.messages.add_delivery(
            MessageDelivery(
                organisation_id=message.organisation_id,
                message_id=message.id,
                channel=channel.value,
                recipient=address,
                idempotency_key=idempotency_key(grant.id, purpose, grant.version, channel),
                status=DeliveryStatus.QUEUED.value,
                attempts=0,
                next_attempt_at=uow.now,
                created_at=uow.now,
                updated_at=uow.now,
            )
        )
    for kind in (ALERT_WAITING, ALERT_NO_CHANNEL):
        clear_alert(uow, message.organisation_id, kind, subject_of(message))
    report.dispatched += 1


def _claim(
    new_uow: NewUnitOfWork,
    delivery_id: str,
    channels: Mapping[ChannelName, Channel],
    public_url: str,
    report: DispatchReport,
) -> _Claimed | None:
    """Take the delivery, check it still applies, render it, open an attempt; commit."""
    with new_uow() as uow:
        if not uow.messages.claim(delivery_id, uow.now):
            return None
        delivery = uow.messages.delivery(delivery_id)
        assert delivery is not None
        claimed = _prepare(uow, delivery, channels, public_url, report)
        uow.commit()
        return claimed


def _prepare(
    uow: UnitOfWork,
    delivery: MessageDelivery,
    channels: Mapping[ChannelName, Channel],
    public_url: str,
    report: DispatchReport,
) -> _Claimed | None:
    message = delivery.message
    grant = uow.grants.get(message.organisation_id, message.grant_id)
    obstacle = _obstacle(uow, message, grant)
    if obstacle is not None or grant is None or grant.reservation is None:
        _finish(uow, delivery, DeliveryStatus.CANCELLED, obstacle or "the grant is gone")
        report.cancelled += 1
        return None
    reservation = grant.reservation
    channel = ChannelName(delivery.channel)
    if channel not in channels:
        _fail(uow, delivery, f"the {channel} channel is not configured any more", report)
        return None
    address = addresses_for(reservation.guest_email, reservation.guest_phone, [channel])
    if channel not in address:
        reason = f"the guest no longer has an address for {channel}"
        _finish(uow, delivery, DeliveryStatus.CANCELLED, reason)
        report.cancelled += 1
        return None
    delivery.recipient = address[channel]
    purpose = MessagePurpose(message.purpose)
    facts = facts_for(uow, grant, reservation, purpose, public_url)
    secrets = (*facts.secrets, uow.reservations.guide_token_of(reservation))
    chain = locale_chain(reservation.guest_locale)
    saved = uow.messages.template_candidates(
        message.organisation_id,
        reservation.property_id,
        purpose.value,
        template_channel(channel).value,
        chain,
    )
    chosen = choose_template(saved, reservation.property_id, purpose, channel, chain)
    delivery.template = chosen.label
    try:
        rendered = render_message(chosen, channel, facts)
    except TemplateRenderError as err:
        _fail(uow, delivery, redact(f"the template cannot be rendered: {err}", secrets), report)
        return None
    attempt = _open_attempt(uow, delivery)
    organisation = uow.organisations.get(message.organisation_id)
    outgoing = OutgoingMessage(
        recipient=delivery.recipient,
        recipient_name=reservation.guest_name,
        rendered=rendered,
        idempotency_key=delivery.idempotency_key,
        purpose=purpose,
        created_at=uow.now,
        reply_to=organisation.host_email if organisation is not None else None,
    )
    return _Claimed(delivery.id, attempt.id, channel, subject_of(message), outgoing, secrets)


def _open_attempt(uow: UnitOfWork, delivery: MessageDelivery) -> MessageAttempt:
    delivery.attempts += 1
    delivery.updated_at = uow.now
    attempt = MessageAttempt(
        delivery_id=delivery.id, number=delivery.attempts, outcome="started", started_at=uow.now
    )
    uow.messages.add_attempt(attempt)
    uow.flush()
    return attempt


def _send(channel: Channel, claimed: _Claimed) -> str | DeliveryError:
    """Hand the message over; the provider's id, or what went wrong as a value."""
    try:
        return channel.send(claimed.outgoing)
    except DeliveryError as err:
        return err
    except Exception as err:
        # A bug after the request may have left: treat it as maybe sent, never resend.
        logger.exception("the %s channel failed unexpectedly", channel.name)
        return OutcomeUnknown(f"the {channel.name} channel failed: {type(err).__name__}")


def _record(
    new_uow: NewUnitOfWork,
    claimed: _Claimed,
    outcome: str | DeliveryError,
    report: DispatchReport,
) -> None:
    with new_uow() as uow:
        delivery = uow.messages.delivery(claimed.delivery_id)
        attempt = uow.messages.attempt(claimed.attempt_id)
        assert delivery is not None
        assert attempt is not None
        if delivery.status != DeliveryStatus.SENDING:
            logger.warning("delivery %s was taken over while sending", delivery.id)
        attempt.finished_at = uow.now
        if isinstance(outcome, str):
            _sent(uow, delivery, attempt, outcome)
            report.sent += 1
        else:
            reason = redact(outcome.reason, claimed.secrets, recipient_masks(delivery.recipient))
            attempt.error = reason
            _failed_attempt(uow, delivery, attempt, outcome, reason, report)
        uow.commit()


def _sent(uow: UnitOfWork, delivery: MessageDelivery, attempt: MessageAttempt, id_: str) -> None:
    attempt.outcome = DeliveryStatus.SENT.value
    attempt.provider_message_id = id_[:200]
    delivery.provider_message_id = id_[:200]
    delivery.sent_at = uow.now
    _finish(uow, delivery, DeliveryStatus.SENT, None)
    logger.info("sent %s delivery %s (attempt %d)", delivery.channel, delivery.id, attempt.number)
    troubled = (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)
    if not any(other.status in troubled for other in delivery.message.deliveries):
        subject = subject_of(delivery.message)
        clear_alert(uow, delivery.organisation_id, ALERT_UNDELIVERED, subject)


def _failed_attempt(
    uow: UnitOfWork,
    delivery: MessageDelivery,
    attempt: MessageAttempt,
    outcome: DeliveryError,
    reason: str,
    report: DispatchReport,
) -> None:
    if isinstance(outcome, OutcomeUnknown):
        attempt.outcome = DeliveryStatus.UNKNOWN.value
        _finish(uow, delivery, DeliveryStatus.UNKNOWN, reason)
        _alert(uow, delivery, f"may not have been sent ({reason}); not sent again")
        report.unknown += 1
        return
    if isinstance(outcome, TransientFailure):
        used = _attempts_this_round(delivery, attempt)
        retry_at = next_attempt_at(used, uow.now, outcome.retry_after)
        if retry_at is not None and _still_useful(uow, delivery, retry_at):
            attempt.outcome = RETRY
            delivery.status = DeliveryStatus.QUEUED.value
            delivery.next_attempt_at = retry_at
            delivery.last_error = reason
            delivery.updated_at = uow.now
            report.retrying += 1
            logger.info("%s delivery %s will be retried", delivery.channel, delivery.id)
            return
        reason = f"gave up after {used} of {MAX_ATTEMPTS} attempts: {reason}"
    attempt.outcome = DeliveryStatus.FAILED.value
    _fail(uow, delivery, reason, report)


def _attempts_this_round(delivery: MessageDelivery, current: MessageAttempt) -> int:
    """Attempts since the delivery was last given up on: ``current`` and the retries before it.

    An operator's retry of a failed or unknown delivery starts a fresh budget of
    ``MAX_ATTEMPTS`` (and backoff), while ``attempts`` keeps counting every attempt ever made.
    """
    ended = [
        earlier.number
        for earlier in delivery.attempt_log
        if earlier.number < current.number and earlier.outcome != RETRY
    ]
    return current.number - max(ended, default=0)


def _still_useful(uow: UnitOfWork, delivery: MessageDelivery, retry_at: datetime) -> bool:
    """A retry after the stay is over would only confuse the guest."""
    grant = uow.grants.get(delivery.organisation_id, delivery.message.grant_id)
    return grant is not None and retry_at < grant.ends_at


def _fail(uow: UnitOfWork, delivery: MessageDelivery, reason: str, report: DispatchReport) -> None:
    _finish(uow, delivery, DeliveryStatus.FAILED, reason)
    _alert(uow, delivery, f"failed: {reason}")
    report.failed += 1


def _recover_abandoned(new_uow: NewUnitOfWork, report: DispatchReport) -> None:
    with new_uow() as uow:
        for delivery_id in uow.messages.abandoned(uow.now - LEASE, BATCH):
            delivery = uow.messages.delivery(delivery_id)
            assert delivery is not None
            attempt = uow.messages.open_attempt(delivery.id)
            if attempt is not None:
                attempt.outcome, attempt.error = DeliveryStatus.UNKNOWN.value, ABANDONED
                attempt.finished_at = uow.now
            _finish(uow, delivery, DeliveryStatus.UNKNOWN, ABANDONED)
            _alert(uow, delivery, f"may not have been sent ({ABANDONED})")
            report.unknown += 1
        uow.commit()


def _finish(
    uow: UnitOfWork, delivery: MessageDelivery, status: DeliveryStatus, reason: str | None
) -> None:
    delivery.status = status.value
    delivery.last_error = reason[:500] if reason else None
    delivery.updated_at = uow.now


def _alert(uow: UnitOfWork, delivery: MessageDelivery, what: str) -> None:
    message = delivery.message
    text = (
        f"the {message.purpose.replace('_', ' ')} {delivery.channel} message to "
        f"{mask_recipient(delivery.recipient)} {what}"
    )
    raise_alert(uow, delivery.organisation_id, ALERT_UNDELIVERED, subject_of(message), text[:1000])


def _note(uow: UnitOfWork, message: Message, reason: str) -> None:
    if message.reason != reason:
        message.reason = reason
        message.updated_at = uow.now
