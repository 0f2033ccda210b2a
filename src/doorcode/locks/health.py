"""Lock health as a back-end reports it: is the device reachable, how full is its battery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["LockHealth"]


@dataclass(frozen=True, slots=True)
class LockHealth:
    """Online, battery and last contact of one device; None where the back-end does not say."""

    online: bool | None
    """None: the back-end does not say."""
    battery_percent: int | None
    """0..100."""
    last_contact_at: datetime | None
    """Aware, UTC."""
