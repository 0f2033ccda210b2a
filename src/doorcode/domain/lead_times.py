"""How long before a window opens a code must already sit on a lock.

A lock that enforces start and end itself (native scheduling) can take a code days ahead, which
rides out a long outage of the lock or its cloud. A lock without it opens for every code it
holds, so its codes go on as late as is safe and come off when the window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from doorcode.domain.errors import InvalidLeadTime
from doorcode.domain.lock_capabilities import LockCapabilities

__all__ = ["DEFAULT_LEAD_TIMES", "MAX_LEAD_TIME", "LeadTimes"]

MAX_LEAD_TIME = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class LeadTimes:
    """A property's lead times: one for locks with native scheduling, one for locks without."""

    native: timedelta = timedelta(hours=72)
    unscheduled: timedelta = timedelta(minutes=60)

    def __post_init__(self) -> None:
        for lead in (self.native, self.unscheduled):
            if not timedelta(0) <= lead <= MAX_LEAD_TIME:
                raise InvalidLeadTime("a lead time must be between 0 and 30 days")

    @classmethod
    def of_minutes(cls, native: int, unscheduled: int) -> LeadTimes:
        """Lead times typed as minutes; a count too large for a ``timedelta`` is refused as
        out of range, not raised as an ``OverflowError``."""
        limit = MAX_LEAD_TIME // timedelta(minutes=1)
        if not (0 <= native <= limit and 0 <= unscheduled <= limit):
            raise InvalidLeadTime("a lead time must be between 0 and 30 days")
        return cls(timedelta(minutes=native), timedelta(minutes=unscheduled))

    def for_lock(self, capabilities: LockCapabilities) -> timedelta:
        """The lead time that applies on a lock with ``capabilities``."""
        return self.native if capabilities.native_scheduling else self.unscheduled


DEFAULT_LEAD_TIMES = LeadTimes()
