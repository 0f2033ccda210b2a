"""Where one grant's code stands on one lock, in words an operator (and the API) can use.

The reconciler stores facts per lock code (what it wanted, what the lock reported, the grant
version confirmed there, the last error); this turns them into one status. The grant's
version is an argument because a code confirmed for version 2 is not "set" once the grant is
at version 3, even before the reconciler has looked again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["NOT_PROGRAMMABLE", "LockCodeFacts", "LockCodeStatus", "lock_code_status"]

NOT_PROGRAMMABLE = "not_programmable"
"""The wait reason for locks that cannot be programmed over the network (offline-code locks)."""


class LockCodeStatus(enum.StrEnum):
    """One grant's code on one lock."""

    PENDING = "pending"
    WAITING_FOR_LEAD_TIME = "waiting_for_lead_time"
    WAITING_FOR_SPACE = "waiting_for_space"
    WAITING_FOR_CODE = "waiting_for_code"
    NOT_PROGRAMMABLE = "not_programmable"
    SETTING = "setting"
    ACCEPTED = "accepted"
    """The back-end took the code; the device has not confirmed it yet."""
    SET = "set"
    FAILED = "failed"
    REMOVING = "removing"
    REMOVED = "removed"


_WAITING = {
    "lead_time": LockCodeStatus.WAITING_FOR_LEAD_TIME,
    "space": LockCodeStatus.WAITING_FOR_SPACE,
    "code_in_use": LockCodeStatus.WAITING_FOR_CODE,
    NOT_PROGRAMMABLE: LockCodeStatus.NOT_PROGRAMMABLE,
}


@dataclass(frozen=True, slots=True)
class LockCodeFacts:
    """What the reconciler recorded about one lock code at its last pass."""

    desired: str
    actual: str
    wait_reason: str | None
    confirmed_version: int | None
    last_error: str | None
    visited: bool
    accepted_version: int | None = None


def lock_code_status(facts: LockCodeFacts, grant_version: int, live: bool = True) -> LockCodeStatus:
    """The status of a lock code whose grant is at ``grant_version``.

    A grant that is no longer ``live`` (revoked, or its window over) wants its code gone,
    whatever the last pass wanted, so until the reconciler has been it reads "removing".
    """
    status = _status(facts, grant_version)
    if not live and status in (LockCodeStatus.SET, LockCodeStatus.SETTING, LockCodeStatus.ACCEPTED):
        return LockCodeStatus.REMOVING if facts.actual == "present" else LockCodeStatus.REMOVED
    return status


def _status(facts: LockCodeFacts, grant_version: int) -> LockCodeStatus:
    if facts.desired == "present":
        if facts.actual == "present" and facts.confirmed_version == grant_version:
            return LockCodeStatus.SET
        if facts.last_error:
            return LockCodeStatus.FAILED
        if facts.actual == "present" and facts.accepted_version == grant_version:
            return LockCodeStatus.ACCEPTED
        return LockCodeStatus.SETTING
    if facts.actual == "present":
        return LockCodeStatus.FAILED if facts.last_error else LockCodeStatus.REMOVING
    if facts.wait_reason in _WAITING:
        return _WAITING[facts.wait_reason]
    return LockCodeStatus.REMOVED if facts.visited else LockCodeStatus.PENDING
