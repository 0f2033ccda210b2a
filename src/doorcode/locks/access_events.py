"""Access events as every lock back-end reports them: who opened, or failed to open, a door.

One shape for every vendor, translated at the adapter's edge. An event names the code that
was used only by the back-end's own reference to it (a code id, a slot number or doorcode's
tag), never by its PIN, so an event can be stored and shown without revealing a code.
``event_id`` is the back-end's id of the event, unique per device: storing an event twice
(a replayed webhook, a poll that overlaps a push) is recognised by it.
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
    """How someone tried to open the door."""

    KEYPAD = "keypad"
    APP = "app"
    KEY = "key"
    MANUAL = "manual"
    UNKNOWN = "unknown"


class RefusalReason(StrEnum):
    """Why a door stayed shut."""

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
    """Events newer than a cursor, and the cursor to ask with next time."""

    events: tuple[AccessEvent, ...]
    """Oldest first."""
    cursor: str | None
    """Opaque; pass it back to get only newer events."""
