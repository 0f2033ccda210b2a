"""How likely a stranger's guess opens an offline lock, computed rather than asserted.

A code opens the lock at clock reading ``now`` exactly when it decrypts to an issuable window
the lock accepts at ``now``. FF1 is a permutation of the ``10**digits`` codes, so the number of
opening codes equals the number of accepted windows, and a uniformly random guess succeeds with
probability ``accepted windows / 10**digits``. No scheme with these resolutions can do better:
each of those windows must have some code that opens the lock now.

A window ``[s, e)`` is accepted when ``s - tolerance <= now < e + tolerance``; with the
activation rule and an empty activation table, a window longer than 24 hours is accepted only
while ``now < s + 24 h + tolerance`` as well. For each duration the accepted starts form one run
of grid points, so the count is a sum of 768 + 333 interval lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from doorcode.domain.offline.window_packing import (
    DAY,
    HORIZON_DAYS,
    HORIZON_HOURS,
    HOUR,
    MAX_DAYS,
    MAX_HOURS,
    MIN_DAYS,
)

__all__ = [
    "GuessOdds",
    "accepted_window_count",
    "typical_accepted_windows",
    "worst_accepted_windows",
]

DEFAULT_TOLERANCE = 300
_REFERENCE_DAY = HORIZON_DAYS // 2  # far from both ends of the horizon


def accepted_window_count(now: int, tolerance: int, *, activation_rule: bool) -> int:
    """How many issuable windows a lock with empty tables opens for at ``now`` (epoch seconds)."""
    hourly = sum(
        _starts(now, hours * HOUR, HOUR, HORIZON_HOURS, tolerance, activation_rule)
        for hours in range(1, MAX_HOURS + 1)
    )
    daily = sum(
        _starts(now, days * DAY, DAY, HORIZON_DAYS, tolerance, activation_rule)
        for days in range(MIN_DAYS, MAX_DAYS + 1)
    )
    return hourly + daily


def typical_accepted_windows(*, activation_rule: bool, tolerance: int = DEFAULT_TOLERANCE) -> int:
    """Accepted windows at half past an hour, more than ``tolerance`` from any grid line."""
    now = _REFERENCE_DAY * DAY + 10 * HOUR + HOUR // 2
    return accepted_window_count(now, tolerance, activation_rule=activation_rule)


def worst_accepted_windows(*, activation_rule: bool, tolerance: int = DEFAULT_TOLERANCE) -> int:
    """The most windows accepted at any moment: the count only changes at hour ± tolerance."""
    day = _REFERENCE_DAY * DAY
    moments = [day + hour * HOUR + side * tolerance for hour in range(25) for side in (-1, 1)]
    return max(
        accepted_window_count(now, tolerance, activation_rule=activation_rule) for now in moments
    )


@dataclass(frozen=True, slots=True)
class GuessOdds:
    """A stranger's chances against ``accepted_windows`` out of ``10**digits`` codes."""

    digits: int
    accepted_windows: int

    @property
    def codes(self) -> int:
        """How many codes of this length there are to guess from."""
        return int(10**self.digits)

    @property
    def probability(self) -> float:
        """The chance that one uniformly random code opens the lock."""
        return self.accepted_windows / self.codes

    @property
    def expected_tries(self) -> float:
        """Tries until the first success, on average (one in this many)."""
        return self.codes / self.accepted_windows

    def expected_time(
        self, lockout_after: int, lockout_for: timedelta, seconds_per_try: float = 0.0
    ) -> timedelta:
        """Average time to the first success when every ``lockout_after`` misses cost a lockout."""
        per_cycle = lockout_for.total_seconds() + lockout_after * seconds_per_try
        return timedelta(seconds=self.expected_tries / lockout_after * per_cycle)


def _starts(
    now: int, duration: int, step: int, limit: int, tolerance: int, activation_rule: bool
) -> int:
    """How many starts ``k * step`` (0 <= k < limit) give an accepted window of ``duration``."""
    after = now - duration - tolerance  # a start must lie strictly after this ...
    if activation_rule and duration > DAY:
        after = max(after, now - DAY - tolerance)
    until = now + tolerance  # ... and at or before this
    first = max(0, after // step + 1)
    last = min(limit - 1, until // step)
    return max(0, last - first + 1)
