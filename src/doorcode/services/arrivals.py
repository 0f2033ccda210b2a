"""Arrivals told by the door: a guest's first opening, and a guest who has not come by night.

The guidebook's "I have arrived" button and the first opening with the guest's code record
the same state: one ``GuestArrived`` audit event on the reservation, whichever comes first.
The first opening tells the host through the host-notice channels ("Ada opened Flat 1A door
at 15:42", on the property's clock) unless the property turned arrival notices off. A stay
whose door has not opened by the property's no-show hour on the arrival day gets one notice
too: a notice, not an alarm (people arrive late).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from doorcode.domain.host_notices import HostNoticeKind
from doorcode.domain.lock_health import no_show_deadline
from doorcode.domain.messages import ChannelName
from doorcode.domain.windows import zone_named
from doorcode.services.host_notices import notify_host
from doorcode.store.models import Event, Reservation
from doorcode.store.repositories import EventFilter
from doorcode.store.row_holds import hold_row
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["arrival_of", "mark_arrived_by_door", "notice_no_shows"]

logger = logging.getLogger(__name__)

ARRIVED = HostNoticeKind.GUEST_ARRIVED.event_kind
NOT_ARRIVED = HostNoticeKind.NO_SHOW.event_kind
ARRIVAL_NIGHT = timedelta(hours=36)
"""How long after check-in a stay is still looked at for a no-show (the arrival night)."""
NOTICE_WITHIN = timedelta(hours=12)
"""A no-show notice not sent this long after its hour is not sent at all."""


def arrival_of(uow: UnitOfWork, reservation: Reservation) -> Event | None:
    """The event that marked the stay arrived (door or guidebook), if any."""
    return _latest(uow, reservation, ARRIVED)


def mark_arrived_by_door(
    uow: UnitOfWork,
    reservation: Reservation,
    lock_id: str,
    lock_name: str,
    opened_at: datetime,
    channels: Collection[ChannelName],
) -> bool:
    """Mark the stay arrived at its first opening and tell the host; False if it already was.

    Part of the caller's transaction. The reservation row is held first, so two openings
    delivered at once (street door and flat door) mark it once.
    """
    hold_row(uow.session, Reservation.id, reservation.id)
    if arrival_of(uow, reservation) is not None:
        return False
    prop = reservation.property
    zone = zone_named(prop.time_zone)
    local = opened_at.astimezone(zone).strftime("%H:%M")
    uow.events.record(
        reservation.organisation_id,
        at=opened_at,
        actor=f"lock:{lock_id}",
        kind=ARRIVED,
        subject=("reservation", reservation.id),
        reason=f"first opening of {lock_name}",
        details={"after": {"lock_id": lock_id, "opened_at": opened_at.isoformat()}},
    )
    if prop.arrival_notices:
        guest = reservation.guest_name or "Your guest"
        text = (
            f"{guest} opened {lock_name} at {local}.\n\n"
            f"Their first opening at {prop.name}, on "
            f"{opened_at.astimezone(zone).strftime('%a %d %b %Y %H:%M %Z')}."
        )
        notify_host(
            uow,
            reservation,
            HostNoticeKind.GUEST_ARRIVED,
            text,
            channels,
            alert_if_unreachable=False,
        )
    return True


def notice_no_shows(uow: UnitOfWork, channels: Collection[ChannelName]) -> int:
    """Tell hosts about stays whose door has not opened by the no-show hour; how many.

    Only properties whose locks report access events count (an offline keypad never says
    who came), only once per stay, and only where arrival notices are on. One transaction.
    """
    told = 0
    with uow:
        for reservation in uow.access.stays_under_way(uow.now, uow.now - ARRIVAL_NIGHT):
            if _is_due(uow, reservation):
                _notice_no_show(uow, reservation, channels)
                told += 1
        uow.commit()
    return told


def _is_due(uow: UnitOfWork, reservation: Reservation) -> bool:
    prop = reservation.property
    deadline = no_show_deadline(reservation.check_in, prop.no_show_time, zone_named(prop.time_zone))
    due = max(deadline, reservation.starts_at)
    if not (prop.arrival_notices and due <= uow.now < due + NOTICE_WITHIN):
        return False  # a stay days old (a property whose locks began reporting) is no news
    hold_row(uow.session, Reservation.id, reservation.id)  # two processes notice once
    return (
        arrival_of(uow, reservation) is None
        and _latest(uow, reservation, NOT_ARRIVED) is None
        and uow.access.property_reports_access(prop.id)
    )


def _notice_no_show(
    uow: UnitOfWork, reservation: Reservation, channels: Collection[ChannelName]
) -> None:
    prop = reservation.property
    zone = zone_named(prop.time_zone)
    guest = reservation.guest_name or "Your guest"
    uow.events.record(
        reservation.organisation_id,
        at=uow.now,
        actor="system",
        kind=NOT_ARRIVED,
        subject=("reservation", reservation.id),
        reason=f"no opening by {prop.no_show_time.strftime('%H:%M')}",
    )
    text = (
        f"{guest} has not opened the door of {prop.name} yet "
        f"({uow.now.astimezone(zone).strftime('%H:%M %Z')}).\n\n"
        "They may simply be late; you may want to check on them. "
        f"Booking {reservation.external_id} ({reservation.source})."
    )
    notify_host(
        uow, reservation, HostNoticeKind.NO_SHOW, text, channels, alert_if_unreachable=False
    )
    logger.info("no-show notice for reservation %s", reservation.id)


def _latest(uow: UnitOfWork, reservation: Reservation, kind: str) -> Event | None:
    which = EventFilter(subject_type="reservation", subject_id=reservation.id, kind=kind, limit=1)
    found = uow.events.search(reservation.organisation_id, which)
    return found[0] if found else None
