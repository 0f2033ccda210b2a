"""Sending what guests told us to the host: claim, send, record; at most once per notice.

Like guest deliveries (``dispatcher``), a notice is claimed by a guarded update before it
is sent, so two processes never send it twice, and one left ``sending`` by a process that
stopped becomes ``unknown`` rather than going out again. Transient failures are retried
with the guest messages' backoff.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from doorcode.domain.host_notices import HostNoticeKind, HostNoticeStatus
from doorcode.domain.messages import ChannelName, next_attempt_at, recipient_masks, redact
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.channels import channels_from_settings
from doorcode.notify.errors import DeliveryError, OutcomeUnknown, TransientFailure
from doorcode.notify.templates import RenderedMessage
from doorcode.runtime import Runtime
from doorcode.store.models import HostNotice
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["HostNoticeReport", "host_notice_loop", "send_due_host_notices", "send_host_notices"]

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BATCH = 100
ABANDONED = "the process stopped while sending; not sent again"

NewUnitOfWork = Callable[[], UnitOfWork]


@dataclass
class HostNoticeReport:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0


def send_host_notices(
    new_uow: NewUnitOfWork, channels: Mapping[ChannelName, Channel]
) -> HostNoticeReport:
    """One pass: give up on abandoned sends, then send every due notice."""
    report = HostNoticeReport()
    with new_uow() as uow:
        for notice in uow.host_notices.abandoned(uow.now - LEASE, BATCH):
            _finish(notice, HostNoticeStatus.UNKNOWN, ABANDONED)
            report.unknown += 1
        uow.commit()
        due = uow.host_notices.due(uow.now, BATCH)
    for notice_id in due:
        outgoing = _claim(new_uow, notice_id, channels, report)
        if outgoing is not None:
            channel, message = outgoing
            _record(new_uow, notice_id, _send(channels[channel], message), report)
    return report


async def send_due_host_notices(runtime: Runtime) -> HostNoticeReport:
    """One pass through the configured channels, in a thread (for ``doorcode worker``)."""
    channels = channels_from_settings(runtime.settings)
    try:
        return await asyncio.to_thread(send_host_notices, runtime.uow, channels)
    finally:
        channels.close()


def host_notice_loop(runtime: Runtime) -> Callable[[], Coroutine[Any, Any, None]]:
    """The background job ``serve`` runs beside the guest messages' one, on the same period."""

    async def run() -> None:
        channels = channels_from_settings(runtime.settings)
        try:
            while True:
                try:
                    await asyncio.to_thread(send_host_notices, runtime.uow, channels)
                except Exception:
                    logger.exception("the host notice pass failed; trying again at the next one")
                await asyncio.sleep(runtime.settings.message_poll_seconds)
        finally:
            channels.close()

    return run


def _claim(
    new_uow: NewUnitOfWork,
    notice_id: str,
    channels: Mapping[ChannelName, Channel],
    report: HostNoticeReport,
) -> tuple[ChannelName, OutgoingMessage] | None:
    with new_uow() as uow:
        if not uow.host_notices.claim(notice_id, uow.now):
            return None
        notice = uow.host_notices.get(notice_id)
        assert notice is not None
        channel = ChannelName(notice.channel)
        if channel not in channels:
            _finish(notice, HostNoticeStatus.FAILED, f"the {channel} channel is not configured")
            report.failed += 1
            uow.commit()
            return None
        notice.attempts += 1
        organisation = uow.organisations.get(notice.organisation_id)
        uow.commit()
        message = OutgoingMessage(
            recipient=notice.recipient,
            recipient_name=(organisation.host_name or organisation.name) if organisation else "",
            rendered=RenderedMessage(
                subject=notice.subject, text=notice.text + "\n", html=_html(notice.text)
            ),
            idempotency_key=f"host-notice:{notice.id}",
            purpose=HostNoticeKind(notice.kind),
            created_at=uow.now,
        )
        return channel, message


def _send(channel: Channel, message: OutgoingMessage) -> str | DeliveryError:
    try:
        return channel.send(message)
    except DeliveryError as err:
        return err
    except Exception as err:
        logger.exception("the %s channel failed unexpectedly", channel.name)
        return OutcomeUnknown(f"the {channel.name} channel failed: {type(err).__name__}")


def _record(
    new_uow: NewUnitOfWork,
    notice_id: str,
    outcome: str | DeliveryError,
    report: HostNoticeReport,
) -> None:
    with new_uow() as uow:
        notice = uow.host_notices.get(notice_id)
        assert notice is not None
        if isinstance(outcome, str):
            notice.sent_at = uow.now
            _finish(notice, HostNoticeStatus.SENT, None)
            report.sent += 1
        else:
            reason = redact(outcome.reason, [], recipient_masks(notice.recipient))
            retry_at = (
                next_attempt_at(notice.attempts, uow.now, outcome.retry_after)
                if isinstance(outcome, TransientFailure)
                else None
            )
            if isinstance(outcome, OutcomeUnknown):
                _finish(notice, HostNoticeStatus.UNKNOWN, reason)
                report.unknown += 1
            elif retry_at is not None:
                notice.status, notice.next_attempt_at = HostNoticeStatus.QUEUED.value, retry_at
                notice.last_error = reason[:500]
                report.retrying += 1
            else:
                _finish(notice, HostNoticeStatus.FAILED, reason)
                report.failed += 1
        uow.commit()


def _finish(notice: HostNotice, status: HostNoticeStatus, reason: str | None) -> None:
    notice.status = status.value
    notice.last_error = reason[:500] if reason else None


def _html(text: str) -> str:
    paragraphs = (html.escape(part).replace("\n", "<br>") for part in text.split("\n\n"))
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs) + "\n"
