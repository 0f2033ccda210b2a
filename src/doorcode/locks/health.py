"""How a lock is doing, as its back-end reports it: online, battery, last contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["UNKNOWN_HEALTH", "LockHealth"]


@dataclass(frozen=True, slots=True)
class LockHealth:
    """A lock's current health; each field is None when the back-end does not say."""

    online: bool | None
    battery_percent: int | None
    """0..100."""
    last_contact_at: datetime | None
    """Aware, UTC."""
    note: str | None = None
    """What the back-end's "online" is worth, when it is not what it seems (zigbee2mqtt
    marks a battery lock offline only after 25 h of silence)."""


UNKNOWN_HEALTH = LockHealth(None, None, None)
"""What a back-end that reports nothing about its devices' health returns."""
