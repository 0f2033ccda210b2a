"""Openings and refused attempts at a lock, as every back-end reports them once normalised.

A back-end delivers these two ways: ``LockProvider.access_events(device_id, cursor)`` (asked,
since a cursor) and its module's ``parse_<vendor>_webhook`` (pushed, signature checked at the
edge). Both carry the vendor's own event id, so recording one twice is recognisably a repeat.
An event names the code used by the back-end's reference (code id, slot, or doorcode's tag),
never by its digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AccessEvent", "AccessEventPage", "AccessMethod", "AccessOutcome", "RefusalReason"]


class AccessOutcome(StrEnum):
    """Whether the door opened."""

    OPENED = "opened"
    REFUSED = "refused"


class AccessMethod(StrEnum):
    """How the person at the door tried to open it."""

    KEYPAD = "keypad"
    APP = "app"
    KEY = "key"
    MANUAL = "manual"
    UNKNOWN = "unknown"


class RefusalReason(StrEnum):
    """Why a refused attempt was refused, as far as the back-end says."""

    UNKNOWN_CODE = "unknown_code"
    OUTSIDE_WINDOW = "outside_window"
    BLOCKED = "blocked"
    LOCKED_OUT = "locked_out"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One opening or refused attempt at one device."""

    event_id: str
    """The back-end's own id of the event, unique per device (the idempotency key)."""
    device_id: str
    """The lock's external id at the back-end."""
    occurred_at: datetime
    """Aware, UTC."""
    outcome: AccessOutcome
    method: AccessMethod
    code_ref: str | None
    """The back-end's reference to the code used (code id, slot number, or our tag); never a PIN."""
    reason: RefusalReason | None = None
    """Only for ``REFUSED``."""


@dataclass(frozen=True, slots=True)
class AccessEventPage:
    """Events newer than a cursor, oldest first, and the cursor to ask with next time."""

    events: tuple[AccessEvent, ...]
    cursor: str | None
