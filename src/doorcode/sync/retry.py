"""How soon to try again after each kind of provider failure, and how much to stop.

One policy per error type (``POLICIES``), exponential backoff with jitter, and the back-end's
own Retry-After always honoured. The scope says what a failure stops: ``CODE`` only that
operation (the lock refused this PIN; try the others), ``LOCK`` the rest of this lock's pass
(the lock is offline, full, or the account is locked out: every further call would fail too).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    ProviderAuthFailed,
    ProviderError,
    ProviderNotConfigured,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
    WebhookRefused,
)

__all__ = [
    "POLICIES",
    "PassCrashed",
    "RetryPolicy",
    "Scope",
    "next_attempt_at",
    "pause_after",
    "policy_for",
]


class PassCrashed(ProviderError):
    """A lock's pass raised something no back-end said: a bug, or data no pass can handle.

    Not the back-end's word, but handled like a lock-wide failure of it: recorded on that lock
    alone, alerted, and retried with backoff, so one bad lock never stops another's pass.
    """

    PREFIX = "the pass failed unexpectedly"

    @classmethod
    def of(cls, error: BaseException) -> PassCrashed:
        """The failure for ``error``, named by its type only (its text may quote a code)."""
        return cls(f"{cls.PREFIX} ({type(error).__name__})")


class Scope(enum.Enum):
    """What one failure stops."""

    CODE = "code"
    LOCK = "lock"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff from ``first`` doubling up to ``cap``, and what the failure stops."""

    first: timedelta
    cap: timedelta
    scope: Scope

    def delay(self, attempts: int, rng: Random) -> timedelta:
        """The wait before attempt ``attempts + 1``: between half and all of the backoff."""
        backoff: timedelta = min(self.cap, self.first * 2 ** max(0, attempts - 1))
        return backoff * (0.5 + rng.random() / 2)


_SECOND, _MINUTE, _HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)

POLICIES: dict[type[ProviderError], RetryPolicy] = {
    # A 503 or a time-out says nothing about the code: retried soon, so that five unlucky
    # calls in a row cost minutes, not the quarter of an hour they did with a 30-minute cap.
    ProviderUnavailable: RetryPolicy(30 * _SECOND, 5 * _MINUTE, Scope.CODE),
    LockOffline: RetryPolicy(2 * _MINUTE, 2 * _HOUR, Scope.LOCK),
    RateLimited: RetryPolicy(30 * _SECOND, 15 * _MINUTE, Scope.LOCK),
    NoSpaceLeft: RetryPolicy(5 * _MINUTE, 6 * _HOUR, Scope.LOCK),
    CodeRefused: RetryPolicy(_HOUR, 24 * _HOUR, Scope.CODE),
    DuplicateCode: RetryPolicy(5 * _MINUTE, 6 * _HOUR, Scope.CODE),
    ProviderAuthFailed: RetryPolicy(5 * _MINUTE, 6 * _HOUR, Scope.LOCK),
    CodeNotFound: RetryPolicy(30 * _SECOND, 30 * _MINUTE, Scope.CODE),
    UnknownDevice: RetryPolicy(_HOUR, 24 * _HOUR, Scope.LOCK),
    # The lock waits for an operator to connect its account; importing it wakes the lock.
    ProviderNotConfigured: RetryPolicy(_HOUR, 24 * _HOUR, Scope.LOCK),
    NotSupported: RetryPolicy(_HOUR, 24 * _HOUR, Scope.CODE),
    # Raised by webhook parsers, never by a pass; listed so every error has its policy.
    WebhookRefused: RetryPolicy(_MINUTE, _HOUR, Scope.CODE),
    PassCrashed: RetryPolicy(_MINUTE, _HOUR, Scope.LOCK),
    ProviderError: RetryPolicy(_MINUTE, _HOUR, Scope.CODE),
}


def policy_for(error: ProviderError) -> RetryPolicy:
    """The policy of the most specific type ``error`` is an instance of."""
    for kind in type(error).__mro__:
        policy = POLICIES.get(kind)
        if policy is not None:
            return policy
    return POLICIES[ProviderError]


def next_attempt_at(error: ProviderError, attempts: int, now: datetime, rng: Random) -> datetime:
    """When to try again after the ``attempts``-th failure in a row; never before Retry-After."""
    delay = policy_for(error).delay(attempts, rng)
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return now + delay


def pause_after(error: RateLimited, now: datetime) -> datetime:
    """Until when the whole back-end rests after a 429: what it asked for, else the first wait.

    Never the backoff of the lock or code that met the 429: that grows with their own
    failures, and as a pause of every lock of the back-end it froze all of them for up to
    15 minutes (rows "setting", 0 attempts, no error) because one lock had failed before.
    """
    return now + (error.retry_after or policy_for(error).first)
