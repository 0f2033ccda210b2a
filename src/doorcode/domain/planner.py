"""The planner: which codes must be on one lock now, and the next instant that changes.

Pure: grants, the lock's capabilities and the clock go in, a ``LockPlan`` comes out; ``sync/``
does the I/O. A grant's code belongs on a lock from ``starts_at − lead`` until its window ends
(or it is revoked). On a lock with native scheduling the code carries its window, so the lock
itself refuses it outside; on a lock without, the code simply sits there for that interval.

Two things can make a grant wait although its time has come:

* **space**: the lock holds at most ``max_codes``; the codes whose windows start soonest win,
  so active ones always come first, and the rest wait for a slot. Spare codes (unreleased
  backup codes) come after every other, so they only ever fill room nobody needs;
* **code in use**: a lock cannot hold one PIN twice (nor, on a keypad without an enter key, a
  PIN that is a prefix of another), so the later-starting grant waits until the earlier leaves.

    plan = plan_lock(grants, capabilities, now)
    plan.desired         # DesiredCode per grant that must be on the lock now
    plan.waiting         # WaitingGrant per grant that is not, and why
    plan.next_change_at  # when to look again (None: nothing will ever change)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from doorcode.domain.lead_times import DEFAULT_LEAD_TIMES, LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow

__all__ = [
    "DesiredCode",
    "GrantOnLock",
    "LockPlan",
    "WaitReason",
    "WaitingGrant",
    "codes_clash",
    "plan_lock",
]


@dataclass(frozen=True, slots=True)
class GrantOnLock:
    """One grant as the planner sees it on one lock.

    ``code`` may be left out (None) for a grant whose lead time has not begun: the planner never
    needs it then, and the caller saves decrypting thousands of future codes on every sweep.
    A ``spare`` grant (an unreleased backup code) takes only room no other grant needs.
    """

    grant_id: str
    window: TimeWindow
    version: int
    code: str | None = field(default=None, repr=False)
    revoked_at: datetime | None = None
    leads: LeadTimes = DEFAULT_LEAD_TIMES
    spare: bool = False

    @property
    def ends_at(self) -> datetime:
        """When the code must be gone: the window's end, or the revocation if earlier."""
        if self.revoked_at is not None and self.revoked_at < self.window.ends_at:
            return self.revoked_at
        return self.window.ends_at

    def is_live(self, now: datetime) -> bool:
        """Whether the grant still matters at ``now`` (not over, not revoked)."""
        return now < self.ends_at

    def programming_starts_at(self, capabilities: LockCapabilities) -> datetime:
        """When the code must go onto a lock with ``capabilities``."""
        return self.window.starts_at - self.leads.for_lock(capabilities)

    def needs_code(self, capabilities: LockCapabilities, now: datetime) -> bool:
        """Whether the planner will read this grant's code at ``now``."""
        return self.is_live(now) and self.programming_starts_at(capabilities) <= now


@dataclass(frozen=True, slots=True)
class DesiredCode:
    """A code that must be on the lock: ``window`` is None on locks without native scheduling."""

    grant_id: str
    code: str = field(repr=False)
    window: TimeWindow | None
    version: int


class WaitReason(enum.StrEnum):
    """Why a live grant's code is not on the lock now."""

    LEAD_TIME = "lead_time"
    SPACE = "space"
    CODE_IN_USE = "code_in_use"


@dataclass(frozen=True, slots=True)
class WaitingGrant:
    """A live grant whose code is not wanted on the lock yet."""

    grant_id: str
    reason: WaitReason


@dataclass(frozen=True, slots=True)
class LockPlan:
    """The desired state of one lock at one instant, and when it next changes."""

    desired: tuple[DesiredCode, ...]
    waiting: tuple[WaitingGrant, ...]
    next_change_at: datetime | None


def plan_lock(
    grants: Iterable[GrantOnLock],
    capabilities: LockCapabilities,
    now: datetime,
    *,
    occupied: int = 0,
) -> LockPlan:
    """The codes that must be on a lock with ``capabilities`` at ``now``.

    ``occupied`` counts slots taken by codes doorcode does not manage (set by hand), which
    leave less room for ours.
    """
    live = [grant for grant in grants if grant.is_live(now)]
    due = sorted(
        (grant for grant in live if grant.programming_starts_at(capabilities) <= now),
        key=lambda grant: (grant.spare, grant.window.starts_at, grant.grant_id),
    )
    desired, waiting = _choose(due, capabilities, _capacity(capabilities, occupied))
    due_ids = {grant.grant_id for grant in due}
    waiting += [
        WaitingGrant(grant.grant_id, WaitReason.LEAD_TIME)
        for grant in live
        if grant.grant_id not in due_ids
    ]
    return LockPlan(tuple(desired), tuple(waiting), _next_change(live, capabilities, now))


def _capacity(capabilities: LockCapabilities, occupied: int) -> int | None:
    if capabilities.max_codes is None:
        return None
    return max(0, capabilities.max_codes - occupied)


def _choose(
    due: list[GrantOnLock], capabilities: LockCapabilities, capacity: int | None
) -> tuple[list[DesiredCode], list[WaitingGrant]]:
    """Soonest start first: each due grant gets on unless its PIN is busy or the lock is full."""
    desired: list[DesiredCode] = []
    waiting: list[WaitingGrant] = []
    prefix_free = not capabilities.enter_key
    for grant in due:
        if grant.code is None:
            raise ValueError(f"grant {grant.grant_id} is due on the lock but its code was not read")
        if _clashes(grant.code, desired, prefix_free):
            waiting.append(WaitingGrant(grant.grant_id, WaitReason.CODE_IN_USE))
        elif capacity is not None and len(desired) >= capacity:
            waiting.append(WaitingGrant(grant.grant_id, WaitReason.SPACE))
        else:
            window = grant.window if capabilities.native_scheduling else None
            desired.append(DesiredCode(grant.grant_id, grant.code, window, grant.version))
    return desired, waiting


def codes_clash(one: str, other: str, prefix_free: bool) -> bool:
    """Whether two PINs cannot sit on one lock together (equal, or a prefix where no enter key)."""
    if one == other:
        return True
    return prefix_free and (one.startswith(other) or other.startswith(one))


def _clashes(code: str, desired: list[DesiredCode], prefix_free: bool) -> bool:
    """Whether ``code`` cannot sit beside the codes already chosen."""
    return any(codes_clash(code, other.code, prefix_free) for other in desired)


def _next_change(
    live: list[GrantOnLock], capabilities: LockCapabilities, now: datetime
) -> datetime | None:
    """The first instant after ``now`` at which some grant enters or leaves the lock."""
    instants = [grant.ends_at for grant in live]
    instants += [grant.programming_starts_at(capabilities) for grant in live]
    future = [instant for instant in instants if instant > now]
    return min(future, default=None)
