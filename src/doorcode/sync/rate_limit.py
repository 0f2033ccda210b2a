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
    """Per-device creation windows (Seam: 10 per minute) and per-account pauses after a 429.

    Keys are provider accounts: one organisation's 429 pauses its own account, never another
    organisation's account at the same vendor.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._creates: dict[tuple[str, str], deque[datetime]] = {}
        self._paused: dict[str, datetime] = {}

    def pause(self, account_id: str, until: datetime) -> None:
        """The account's back-end asked for a break: no call for it before ``until``."""
        self._paused[account_id] = max(until, self._paused.get(account_id, until))

    def paused_until(self, account_id: str) -> datetime | None:
        """When the account's back-end may be called again, or None if it may now."""
        until = self._paused.get(account_id)
        if until is None or until <= self._clock():
            self._paused.pop(account_id, None)
            return None
        return until

    def take_create(
        self, provider: LockProvider, account_id: str, device_id: str
    ) -> datetime | None:
        """Use one creation on the device; None if allowed now, else when one frees up."""
        limit = provider.rate_limits.creates_per_device
        if limit is None:
            return None
        now = self._clock()
        recent = self._creates.setdefault((account_id, device_id), deque())
        while recent and recent[0] <= now - provider.rate_limits.per:
            recent.popleft()
        if len(recent) >= limit:
            return recent[0] + provider.rate_limits.per
        recent.append(now)
        return None
