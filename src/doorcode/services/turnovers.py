"""Turnover codes: the cleaner's code from each check-out to the next check-in.

A property that names a turnover holder ("Cleaner") gets, after every confirmed stay, a
staff grant on its lock group from that stay's check-out until the next confirmed stay's
check-in, never longer than its cap (``turnover_max_hours``; also the length after a stay
with none following). The codes follow the bookings: ``follow_turnovers`` runs in the same
transaction as every change of a stay, so a moved booking moves them (keeping their code),
a cancelled one removes or stretches them, and a new one cuts them short.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from doorcode.domain.grants import GrantKind
from doorcode.domain.reservations import ReservationStatus
from doorcode.domain.windows import TimeWindow
from doorcode.services.caller import Caller
from doorcode.services.grants import GrantTarget, move_grant, open_grant, revoke, window_of
from doorcode.store.models import Property, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["follow_turnovers", "turnover_windows"]

NO_TURNOVER = "no turnover after this stay any more"
"""Why the property itself revoked a turnover code; any other reason is an operator's."""


def follow_turnovers(
    uow: UnitOfWork, caller: Caller, prop: Property, *, settings_changed: bool = False
) -> None:
    """Make the property's turnover codes match its confirmed stays, inside the caller's
    transaction.

    A property without a turnover holder has no live turnover codes (turning them off, a
    settings change, revokes them all), so a booking change there costs no query at all.
    """
    if not prop.turnover_holder and not settings_changed:
        return
    live = uow.grants.turnovers_of(prop.id, uow.now)
    wanted = turnover_windows(uow, prop) if prop.turnover_holder else {}
    for revoked in uow.grants.turnovers_of(prop.id, uow.now, revoked=True):
        if revoked.revoke_reason != NO_TURNOVER:  # an operator revoked it: it stays revoked
            wanted.pop(revoked.turnover_after or "", None)
    target = GrantTarget.of_property(prop)
    for grant in live:
        window = wanted.pop(grant.turnover_after or "", None)
        if window is None:
            revoke(uow, caller, grant, NO_TURNOVER)
            continue
        grant.holder = prop.turnover_holder
        if window != window_of(grant):
            move_grant(uow, caller, grant, window, target)
    if not prop.locks:
        return
    for reservation_id, window in sorted(wanted.items(), key=lambda item: item[1].starts_at):
        grant = open_grant(
            uow,
            caller,
            kind=GrantKind.STAFF,
            holder=prop.turnover_holder,
            window=window,
            target=target,
        )
        grant.turnover_after = reservation_id


def turnover_windows(uow: UnitOfWork, prop: Property) -> dict[str, TimeWindow]:
    """For each confirmed stay whose turnover is not over: check-out to the next check-in,
    capped."""
    cap = timedelta(hours=prop.turnover_max_hours)
    stays = [
        stay
        for stay in uow.reservations.of_property_ending_after(prop.id, uow.now - cap)
        if stay.status == ReservationStatus.CONFIRMED
    ]
    windows = {}
    for stay in stays:
        ends = min(stay.ends_at + cap, _next_check_in(stays, stay) or stay.ends_at + cap)
        if ends > stay.ends_at and ends > uow.now:
            windows[stay.id] = TimeWindow(stay.ends_at, ends)
    return windows


def _next_check_in(stays: list[Reservation], stay: Reservation) -> datetime | None:
    """The check-in of the first other stay still on after ``stay``'s check-out.

    A stay that began before this check-out (an early check-in, a late check-out, a double
    booking) counts too: its check-in is then no later than the check-out, and no turnover
    window opens while that guest is in.
    """
    following = [
        other.starts_at for other in stays if other.id != stay.id and other.ends_at > stay.ends_at
    ]
    return min(following, default=None)
