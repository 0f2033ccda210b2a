"""Rate limits on failures: sign-ins per account and per address, guidebook lookups per address.

A limit allows ``failures`` within a sliding ``period``; once reached, further attempts
are refused without being checked (so a guesser learns nothing more) until the oldest
counted failure leaves the window. Counts live in the database, so every process behind
a load balancer sees the same ones. Only failures are counted: a guest opening their own
link, or a user signing in, costs nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "GUIDEBOOK_PER_ADDRESS",
    "SIGN_IN_PER_ACCOUNT",
    "SIGN_IN_PER_ADDRESS",
    "Limit",
    "blocked_until",
    "clear_failures",
    "record_failure",
]

KEEP_FOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failures by one subject within ``period``."""

    bucket: str
    failures: int
    period: timedelta

    def subject(self, kind: str, value: str) -> tuple[Limit, str]:
        """This limit applied to one subject, e.g. ``("address", "203.0.113.9")``."""
        return self, f"{kind}:{value[:180]}"


SIGN_IN_PER_ACCOUNT = Limit("sign_in", 5, timedelta(minutes=15))
SIGN_IN_PER_ADDRESS = Limit("sign_in", 20, timedelta(minutes=15))
GUIDEBOOK_PER_ADDRESS = Limit("guidebook", 20, timedelta(minutes=10))

Subject = tuple[Limit, str]


def blocked_until(uow: UnitOfWork, subjects: Collection[Subject]) -> datetime | None:
    """When the latest of the reached limits frees up again, or None if none is reached.

    Part of the caller's transaction.
    """
    until: datetime | None = None
    for limit, subject in subjects:
        since = uow.now - limit.period
        if uow.failed_attempts.count_since(limit.bucket, subject, since) < limit.failures:
            continue
        oldest = uow.failed_attempts.oldest_since(limit.bucket, subject, since)
        free = (oldest or uow.now) + limit.period
        until = free if until is None else max(until, free)
    return until


def record_failure(uow: UnitOfWork, subjects: Collection[Subject]) -> None:
    """Count one failure against every subject (in the caller's transaction)."""
    for limit, subject in subjects:
        uow.failed_attempts.record(limit.bucket, [subject], uow.now)
    uow.failed_attempts.forget_before(uow.now - KEEP_FOR)


def clear_failures(uow: UnitOfWork, subjects: Collection[Subject]) -> None:
    """Forget the subjects' failures after a success (in the caller's transaction)."""
    for limit, subject in subjects:
        uow.failed_attempts.clear(limit.bucket, subject)
