"""Keeping each back-end within its documented rates, and honouring its Retry-After.

Non-blocking: the reconciler asks before a call and, when the answer is "not before T", moves
on and comes back at T. Time comes from the injected clock, so tests can move it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from doorcode.domain.clock import Clock
from doorcode.locks.base import LockProvider

__all__ = ["RateLimiter"]


class RateLimiter:
    """Per-device creation windows (Seam: 10 per minute) and per-provider pauses after a 429."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._creates: dict[tuple[str, str], deque[datetime]] = {}
        self._paused: dict[str, datetime] = {}

    def pause(self, provider: LockProvider, until: datetime) -> None:
        """The back-end asked for a break: no call to it before ``until``."""
        self._paused[provider.name] = max(until, self._paused.get(provider.name, until))

    def paused_until(self, provider: LockProvider) -> datetime | None:
        """When the back-end may be called again, or None if it may now."""
        until = self._paused.get(provider.name)
        if until is None or until <= self._clock():
            self._paused.pop(provider.name, None)
            return None
        return until

    def take_create(self, provider: LockProvider, device_id: str) -> datetime | None:
        """Use one creation on the device; None if allowed now, else when one frees up."""
        limit = provider.rate_limits.creates_per_device
        if limit is None:
            return None
        now = self._clock()
        recent = self._creates.setdefault((provider.name, device_id), deque())
        while recent and recent[0] <= now - provider.rate_limits.per:
            recent.popleft()
        if len(recent) >= limit:
            return recent[0] + provider.rate_limits.per
        recent.append(now)
        return None
