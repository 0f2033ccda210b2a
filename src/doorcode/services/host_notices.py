"""Telling the host what a guest reported: one queued notice per channel that reaches them.

The host is the organisation's host contact (``doorcode org contact``). Notices go by email
and SMS when those channels are configured, and to the console in the demo; WhatsApp is
left out because a business may only open a conversation there with a template Meta
approved. When no channel reaches the host, an alert says so instead: the dashboard is
then the only place the report shows. A notice never holds a code.
"""

from __future__ import annotations

from collections.abc import Collection

from doorcode.domain.host_notices import HostNoticeKind, HostNoticeStatus
from doorcode.domain.messages import ChannelName, addresses_for
from doorcode.services.alerts import raise_alert
from doorcode.store.models import HostNotice, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["ALERT_HOST_UNREACHABLE", "HOST_CHANNELS", "notify_host"]

ALERT_HOST_UNREACHABLE = "HostNotReachable"
HOST_CHANNELS = (ChannelName.EMAIL, ChannelName.SMS, ChannelName.CONSOLE)


def notify_host(
    uow: UnitOfWork,
    reservation: Reservation,
    kind: HostNoticeKind,
    text: str,
    channels: Collection[ChannelName],
    *,
    alert_if_unreachable: bool = True,
) -> list[HostNotice]:
    """Queue ``text`` for the host through each configured channel (caller's transaction).

    With ``alert_if_unreachable`` off, a notice no channel can carry is simply not sent: for
    what the doors report (arrivals, no-shows), which the dashboard shows anyway.
    """
    organisation = uow.organisations.get(reservation.organisation_id)
    assert organisation is not None
    usable = [channel for channel in HOST_CHANNELS if channel in channels]
    addresses = addresses_for(organisation.host_email, organisation.host_phone, usable)
    subject = f"{reservation.property.name}: {text.splitlines()[0]}"[:300]
    notices = [
        HostNotice(
            organisation_id=organisation.id,
            reservation_id=reservation.id,
            kind=kind.value,
            channel=channel.value,
            recipient=address,
            subject=subject,
            text=text,
            status=HostNoticeStatus.QUEUED.value,
            attempts=0,
            next_attempt_at=uow.now,
            created_at=uow.now,
        )
        for channel, address in sorted(addresses.items())
    ]
    for notice in notices:
        uow.host_notices.add(notice)
    if not notices and alert_if_unreachable:
        why = (
            "no host email address or phone number is set (doorcode org contact)"
            if not (organisation.host_email or organisation.host_phone)
            else "no configured channel reaches the host's email address or phone number"
        )
        raise_alert(
            uow,
            organisation.id,
            ALERT_HOST_UNREACHABLE,
            ("reservation", reservation.id),
            f"the host could not be told that {text.splitlines()[0].rstrip('.')}: {why}",
        )
    return notices
