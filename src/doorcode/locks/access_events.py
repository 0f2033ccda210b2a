"""Openings and refused attempts at a lock, as every back-end reports them once normalised.

A back-end delivers these two ways: ``LockProvider.access_events(device_id, cursor)`` (asked,
since a cursor) and its module's ``parse_<vendor>_webhook`` (pushed, signature checked at the
edge). Both carry the vendor's own event id, so recording one twice is recognisably a repeat.
An event names the code used by the back-end's reference (code id, slot, or doorcode's tag),
never by its digits.

A local link (Z-Wave JS, zigbee2mqtt) hears a push in every worker process that listens, and
no vendor id comes with it: ``heard_event_id`` makes the id from what the lock sent, so every
process that heard one message names it alike and the access log keeps it once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "HEARD_WINDOW",
    "AccessEvent",
    "AccessEventPage",
    "AccessMethod",
    "AccessOutcome",
    "RefusalReason",
    "heard_event_id",
]

HEARD_WINDOW = timedelta(seconds=2)
"""How finely a hearing instant counts in a heard event's id, when the message has no stamp.

Processes hearing one push do so milliseconds apart, so they agree but for the rare push heard
across a window's edge; a keypad opening takes longer than this (type the code, the bolt turns
and locks again), so two real openings with one code never share a window.
"""


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


def heard_event_id(
    device_id: str, message: Mapping[str, Any], heard_at: datetime, stamp: str | None = None
) -> str:
    """The id of a pushed message, the same in every process that heard it.

    ``message`` is what the lock sent (its content, never a PIN); ``stamp`` the sender's own
    instant or sequence for it where it gives one (zigbee2mqtt's ``last_seen``), which names it
    exactly. Without one, the hearing instant counts to the ``HEARD_WINDOW`` it falls in.
    """
    when = stamp if stamp is not None else _window_of(heard_at)
    content = json.dumps(message, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(f"{device_id}\n{content}\n{when}".encode()).hexdigest()[:32]
    return f"{device_id}@{digest}"


def _window_of(instant: datetime) -> str:
    """The start of the ``HEARD_WINDOW`` holding ``instant``, as whole microseconds (UTC)."""
    micros = int(instant.astimezone(UTC).timestamp() * 1_000_000)
    width = int(HEARD_WINDOW.total_seconds() * 1_000_000)
    return f"w{micros - micros % width}"
