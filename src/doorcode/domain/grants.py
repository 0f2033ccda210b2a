"""Grants: who may open which locks with which code, and when.

A grant's state is read off the clock every time it is asked for (``grant_state``), never kept
as a stored flag that would go stale the moment a window opens or closes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from doorcode.domain.windows import TimeWindow

__all__ = ["GrantKind", "GrantState", "grant_state"]


class GrantKind(enum.StrEnum):
    """Why a grant exists; a confirmed reservation yields exactly one ``guest`` grant.

    A ``backup`` grant is a second code tied to a reservation, released to the guest when the
    first one cannot open the door (a dead lock battery, a code wiped by hand).
    """

    GUEST = "guest"
    STAFF = "staff"
    MASTER = "master"
    MANUAL = "manual"
    BACKUP = "backup"


class GrantState(enum.StrEnum):
    """Where a grant stands at a given instant."""

    SCHEDULED = "scheduled"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def grant_state(window: TimeWindow, revoked_at: datetime | None, now: datetime) -> GrantState:
    """The state of a grant with ``window`` at ``now``; revocation wins over the window."""
    if revoked_at is not None and revoked_at <= now:
        return GrantState.REVOKED
    if now < window.starts_at:
        return GrantState.SCHEDULED
    if now < window.ends_at:
        return GrantState.ACTIVE
    return GrantState.EXPIRED
