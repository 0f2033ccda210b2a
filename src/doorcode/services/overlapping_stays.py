"""Two confirmed stays at one property at once: kept as the source says, and raised as an alert.

The PMS or channel is the truth about bookings, so an overlapping stay is recorded; but then two
guests hold codes to one door at the same time, which the host must know. Each stay involved
carries an open ``StaysOverlap`` alert naming the others, and it clears by itself once the stays
no longer overlap (dates moved, one cancelled).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.store.models import Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["STAYS_OVERLAP", "review_overlaps"]

STAYS_OVERLAP = "StaysOverlap"
SUBJECT = "reservation"
NAMED = 3
"""Stays an alert names; the rest are counted, so the message stays short."""


def review_overlaps(
    uow: UnitOfWork, reservation: Reservation, before: dict[str, Any] | None = None
) -> None:
    """Raise or clear the overlap alerts of this stay and of every stay it overlaps or did.

    ``before`` is the stay's audit snapshot before the change, so stays it overlapped at its
    old dates or property are reviewed too and lose an alert that named it.
    """
    # A new stay (no ``before``): only its own rows (reservation, grant, lock codes) can be
    # pending, and the probe leaves the stay itself out, so it need not flush them; the
    # transaction's one flush writes them all. Stays it overlaps are reviewed below, with
    # the usual flush, so their alerts name it.
    overlapping = _overlapping(uow, reservation, flush=before is not None)
    if before is None and not overlapping:
        return  # a new stay alone at its property: no alert to raise, none open to clear
    involved = {reservation.id: reservation}
    for other in overlapping:
        involved[other.id] = other
    if before is not None:
        old = uow.reservations.confirmed_overlapping(
            before["property_id"],
            datetime.fromisoformat(before["starts_at"]),
            datetime.fromisoformat(before["ends_at"]),
        )
        involved.update((other.id, other) for other in old)
    for stay in involved.values():
        _review(uow, stay)


def _review(uow: UnitOfWork, stay: Reservation) -> None:
    subject = (SUBJECT, stay.id)
    others = _overlapping(uow, stay) if stay.status == "confirmed" else []
    if not others:
        clear_alert(uow, stay.organisation_id, STAYS_OVERLAP, subject)
        return
    names = "; ".join(_described(other) for other in others[:NAMED])
    if len(others) > NAMED:
        names += f" and {len(others) - NAMED} more"
    message = (
        f"{_described(stay)} overlaps {names} at {stay.property.name}: "
        "two guests hold codes to its doors at the same time"
    )
    raise_alert(uow, stay.organisation_id, STAYS_OVERLAP, subject, message)


def _overlapping(uow: UnitOfWork, stay: Reservation, *, flush: bool = True) -> list[Reservation]:
    if stay.status != "confirmed":
        return []
    found = uow.reservations.confirmed_overlapping(
        stay.property_id, stay.starts_at, stay.ends_at, flush=flush
    )
    return [other for other in found if other.id != stay.id]


def _described(stay: Reservation) -> str:
    who = (stay.guest_name or stay.external_id)[:60]
    return f"{who} ({stay.check_in:%d %b %Y} – {stay.check_out:%d %b %Y})"
