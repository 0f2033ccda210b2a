"""Grants: opening, moving, revoking and re-coding them, with codes unique where it matters.

Every function that gives a grant a code first touches the grant's locks (``uow.touch_locks``):
that marks them for the reconciler and, as a write, serialises concurrent allocations on the
same locks, so two requests can never pick the same code for overlapping windows.

A fresh code also avoids the codes of grants that merely come close: a code sits on a lock from
its lead time (72 h on locks that schedule codes) before its window, so two back-to-back stays
with one PIN would need the lock to hold it twice. The allocator widens its check by the locks'
lead time when the code space allows, and the planner makes the later grant wait when it does
not. Kept and chosen codes are only refused for truly overlapping windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from doorcode.domain.code_allocation import TakenCodes, allocate_code
from doorcode.domain.code_policy import Alphabet, CodePolicy
from doorcode.domain.errors import (
    CodeClash,
    CodeRejected,
    CodeSpaceExhausted,
    InvalidCodePolicy,
    InvalidWindow,
)
from doorcode.domain.grants import GrantKind, GrantState, grant_state
from doorcode.domain.lead_times import DEFAULT_LEAD_TIMES, LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities, policy_for_locks
from doorcode.domain.windows import TimeWindow
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.naming import check_name_length
from doorcode.services.offline_blocks import block_revoked_grant
from doorcode.services.offline_lock_codes import assign_offline_codes, retire_offline_codes
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.ids import new_id
from doorcode.store.models import Grant, Lock, Property
from doorcode.store.repositories import GrantFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "GrantAccess",
    "GrantTarget",
    "LockAccess",
    "ManualGrantRequest",
    "create_manual_grant",
    "get_grant",
    "list_grants",
    "move_grant",
    "offline_access_of",
    "open_grant",
    "property_target_of",
    "regenerate_code",
    "reveal_access",
    "reveal_code",
    "revoke",
    "revoke_grant",
    "state_of",
    "window_of",
]

SUBJECT = "grant"


@dataclass(frozen=True, slots=True)
class GrantTarget:
    """The locks a grant is for, the policy their codes follow, and the group it follows.

    ``lead`` is the longest time before a window that a code sits on one of these locks.
    """

    lock_ids: frozenset[str]
    policy: CodePolicy
    property_id: str | None = None
    lead: timedelta = timedelta(0)

    @classmethod
    def of_property(cls, prop: Property) -> GrantTarget:
        """Every lock of the property's group, under the property's policy."""
        wanted = CodePolicy(prop.code_length, Alphabet(prop.code_alphabet))
        lead = _longest_lead(_leads(prop), prop.locks)
        return cls(_ids(prop.locks), _policy(wanted, prop.locks), prop.id, lead)

    @classmethod
    def of_property_at_length(cls, prop: Property, length: int) -> GrantTarget:
        """The property's group, with codes of ``length`` symbols instead of the property's."""
        target = cls.of_property(prop)
        if length == prop.code_length:
            return target
        wanted = CodePolicy(length, Alphabet(prop.code_alphabet))
        return cls(target.lock_ids, _policy(wanted, prop.locks), prop.id, target.lead)

    @classmethod
    def of_locks(cls, locks: Sequence[Lock], length: int, alphabet: Alphabet) -> GrantTarget:
        """Locks chosen one by one; each lock's lead is the longest of its properties'."""
        lead = max(
            (_longest_lead(_leads_of_lock(lock), [lock]) for lock in locks), default=timedelta(0)
        )
        return cls(_ids(locks), _policy(CodePolicy(length, alphabet), locks), lead=lead)


@dataclass(frozen=True, slots=True)
class ManualGrantRequest:
    """A staff, master or manual code: for a property's lock group or for chosen locks."""

    kind: GrantKind
    holder: str
    window: TimeWindow
    property_ref: str | None = None
    lock_refs: tuple[str, ...] = field(default_factory=tuple)
    reservation_id: str | None = None
    code: str | None = None
    code_length: int | None = None


def window_of(grant: Grant) -> TimeWindow:
    """The grant's window as a domain value."""
    return TimeWindow(grant.starts_at, grant.ends_at)


def state_of(grant: Grant, now: datetime) -> GrantState:
    """The grant's state at ``now``, read off the clock."""
    return grant_state(window_of(grant), grant.revoked_at, now)


def open_grant(
    uow: UnitOfWork,
    caller: Caller,
    *,
    kind: GrantKind,
    holder: str,
    window: TimeWindow,
    target: GrantTarget,
    reservation_id: str | None = None,
    code: str | None = None,
) -> Grant:
    """Create a grant with a fresh code, or with ``code`` if it is acceptable and free."""
    if code is None:
        code = _choose_code(uow, target, window)
    else:
        _check_chosen_code(uow, target, window, code)
    grant = Grant(
        id=new_id("grt"),  # known now: the event below needs no flush to name it
        organisation_id=caller.organisation_id,
        kind=kind.value,
        reservation_id=reservation_id,
        property_id=target.property_id,
        holder=holder,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        version=1,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.grants.set_code(grant, code)
    uow.grants.set_locks(grant, target.lock_ids)
    uow.grants.add(grant)
    record_event(uow, caller, (SUBJECT, grant.id), "GrantCreated", "", after=_snapshot(grant))
    assign_offline_codes(uow, caller, grant)
    return grant


def move_grant(
    uow: UnitOfWork, caller: Caller, grant: Grant, window: TimeWindow, target: GrantTarget
) -> bool:
    """Give the grant a new window or lock set; the code stays unless it would now clash.

    Returns whether anything changed. A new code is chosen only when the old one is taken
    on a shared lock during the new window, or breaks a rule of a new lock; the event says
    which.
    """
    before = _snapshot(grant)
    old_locks = {code.lock_id for code in grant.lock_codes}
    if window_of(grant) == window and old_locks == target.lock_ids:
        return False
    uow.touch_locks(old_locks | target.lock_ids)
    retire_offline_codes(uow, caller, grant, keeping=target.lock_ids)
    grant.starts_at, grant.ends_at = window.starts_at, window.ends_at
    grant.property_id = target.property_id
    uow.grants.set_locks(grant, target.lock_ids)
    uow.flush()
    _bump(uow, grant)
    record_event(
        uow, caller, (SUBJECT, grant.id), "GrantMoved", "", before=before, after=_snapshot(grant)
    )
    _recode_if_needed(uow, caller, grant, window, target)
    assign_offline_codes(uow, caller, grant)
    return True


def revoke(uow: UnitOfWork, caller: Caller, grant: Grant, reason: str) -> bool:
    """Revoke the grant now; its codes leave every lock. Returns False if it already was."""
    if grant.revoked_at is not None:
        return False
    grant.revoked_at = uow.now
    grant.revoke_reason = reason
    _bump(uow, grant)
    uow.touch_locks({code.lock_id for code in grant.lock_codes})
    record_event(uow, caller, (SUBJECT, grant.id), "GrantRevoked", reason)
    block_revoked_grant(uow, caller, grant)
    retire_offline_codes(uow, caller, grant)
    return True


def reinstate(
    uow: UnitOfWork, caller: Caller, grant: Grant, window: TimeWindow, target: GrantTarget
) -> None:
    """Bring a revoked grant back (a cancelled booking confirmed again), code kept if free."""
    grant.revoked_at = None
    grant.revoke_reason = None
    record_event(
        uow, caller, (SUBJECT, grant.id), "GrantReinstated", "the reservation is confirmed again"
    )
    if not move_grant(uow, caller, grant, window, target):
        _bump(uow, grant)
        uow.touch_locks(target.lock_ids)
        _recode_if_needed(uow, caller, grant, window, target)
        assign_offline_codes(uow, caller, grant)


def create_manual_grant(uow: UnitOfWork, caller: Caller, request: ManualGrantRequest) -> Grant:
    """A staff, master or manual grant, standalone or tied to a reservation."""
    caller.require_writer()
    with uow:
        if request.window.ends_at <= uow.now:
            raise InvalidWindow("the window is already over")
        target = _manual_target(uow, caller, request)
        if request.reservation_id and not uow.reservations.get(
            caller.organisation_id, request.reservation_id
        ):
            raise NotFound("reservation", request.reservation_id)
        grant = open_grant(
            uow,
            caller,
            kind=request.kind,
            holder=request.holder,
            window=request.window,
            target=target,
            reservation_id=request.reservation_id,
            code=request.code,
        )
        uow.commit()
        return grant


def revoke_grant(uow: UnitOfWork, caller: Caller, grant_id: str, reason: str) -> Grant:
    """Revoke a grant at once, whatever its kind."""
    caller.require_writer()
    with uow:
        grant = _get(uow, caller, grant_id)
        revoke(uow, caller, grant, reason or "revoked by an operator")
        uow.commit()
        return grant


def property_target_of(uow: UnitOfWork, grant: Grant, prop: Property) -> GrantTarget:
    """The property's group as ``grant`` should follow it.

    Guest and backup codes follow the property's policy. A staff, master or manual code keeps
    the length it was given (a cleaner's 6-digit code stays 6 digits when a lock joins the
    group, or when the operator asks for a fresh one) unless a lock of the group cannot take
    that length; only then does it fall back to the property's length.
    """
    if grant.kind in (GrantKind.GUEST, GrantKind.BACKUP):
        return GrantTarget.of_property(prop)
    try:
        return GrantTarget.of_property_at_length(prop, len(uow.grants.code_of(grant)))
    except InvalidCodePolicy:
        return GrantTarget.of_property(prop)


def regenerate_code(uow: UnitOfWork, caller: Caller, grant_id: str) -> Grant:
    """Give a grant a fresh code (a guest shared theirs, a cleaner left)."""
    caller.require_writer()
    with uow:
        grant = _get(uow, caller, grant_id)
        if grant.revoked_at is not None:
            raise InvalidRequest("a revoked grant cannot get a new code")
        if grant.offline_key_group_id is not None:
            raise InvalidRequest("an offline code cannot be regenerated: issue a new one instead")
        target = _target_of(uow, caller, grant)
        _replace_code(uow, caller, grant, target, "regenerated by an operator")
        uow.commit()
        return grant


@dataclass(frozen=True, slots=True, repr=False)
class LockAccess:
    """The code to type at one lock where it is not the grant's PIN (an offline keypad).

    ``vendor`` names the cloud that computed it (TTLock, Seam) or is None for doorcode's own;
    ``rules`` are the vendor's conditions, said to the operator and the guest.
    """

    lock_id: str
    lock_name: str
    code: str
    window: TimeWindow
    vendor: str | None = None
    rules: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"LockAccess(lock={self.lock_name!r}, code=***)"


@dataclass(frozen=True, slots=True, repr=False)
class GrantAccess:
    """Everything a guest types: the grant's PIN, and each offline keypad's own code."""

    code: str
    offline: tuple[LockAccess, ...]

    def __repr__(self) -> str:
        return "GrantAccess(code=***)"


def reveal_code(uow: UnitOfWork, caller: Caller, grant_id: str) -> str:
    """The grant's code (its PIN) in clear; every reveal is an audit event."""
    return reveal_access(uow, caller, grant_id).code


def reveal_access(uow: UnitOfWork, caller: Caller, grant_id: str) -> GrantAccess:
    """The grant's PIN and its offline keypads' codes in clear; one audit event per reveal."""
    caller.require_writer()
    with uow:
        grant = _get(uow, caller, grant_id)
        access = GrantAccess(uow.grants.code_of(grant), offline_access_of(uow, grant))
        record_event(uow, caller, (SUBJECT, grant.id), "GrantCodeRevealed", "shown to an operator")
        uow.commit()
        return access


def get_grant(uow: UnitOfWork, caller: Caller, grant_id: str) -> Grant:
    """One grant of the caller's organisation."""
    with uow:
        return _get(uow, caller, grant_id)


def list_grants(uow: UnitOfWork, caller: Caller, which: GrantFilter) -> list[Grant]:
    """Grants of the caller's organisation matching ``which``."""
    with uow:
        return uow.grants.search(caller.organisation_id, which)


def offline_access_of(uow: UnitOfWork, grant: Grant) -> tuple[LockAccess, ...]:
    """The offline code to type at each lock where the grant has one, with its window."""
    found = []
    for lock_code in grant.lock_codes:
        code = uow.offline.offline_code_of(lock_code)
        starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
        if code is not None and starts is not None and ends is not None:
            window = TimeWindow(starts, ends)
            found.append(
                LockAccess(
                    lock_code.lock_id,
                    lock_code.lock.name,
                    code,
                    window,
                    lock_code.offline_vendor,
                    tuple(lock_code.offline_rules or ()),
                )
            )
    return tuple(sorted(found, key=lambda access: access.lock_name))


def _get(uow: UnitOfWork, caller: Caller, grant_id: str) -> Grant:
    grant = uow.grants.get(caller.organisation_id, grant_id)
    if grant is None:
        raise NotFound("grant", grant_id)
    return grant


def _target_of(uow: UnitOfWork, caller: Caller, grant: Grant) -> GrantTarget:
    """The grant's current target: its property's group, or its chosen locks."""
    if grant.property_id is not None:
        prop = uow.properties.get(caller.organisation_id, grant.property_id)
        if prop is not None:
            return property_target_of(uow, grant, prop)
    locks = [code.lock for code in grant.lock_codes]
    code = uow.grants.code_of(grant)
    alphabet = Alphabet.NUMERIC if code.isdigit() else Alphabet.ALPHANUMERIC
    return GrantTarget.of_locks(locks, len(code), alphabet)


def _manual_target(uow: UnitOfWork, caller: Caller, request: ManualGrantRequest) -> GrantTarget:
    if request.property_ref is not None and request.lock_refs:
        # Either would be a guess: the locks were silently dropped, a mistyped one unnoticed.
        raise InvalidRequest("give a property or locks, not both")
    # As the API's grant body allows; the CLI, with no schema of its own, is held to it here.
    check_name_length("the holder", request.holder)
    if request.property_ref is not None:
        prop = uow.properties.find(caller.organisation_id, request.property_ref)
        if prop is None:
            raise NotFound("property", request.property_ref)
        length = prop.code_length if request.code_length is None else request.code_length
        return GrantTarget.of_property_at_length(prop, length)
    if not request.lock_refs:
        raise InvalidRequest("a grant needs a property or at least one lock")
    locks = []
    for reference in request.lock_refs:
        lock = uow.locks.find(caller.organisation_id, reference)
        if lock is None:
            raise NotFound("lock", reference)
        locks.append(lock)
    length = 6 if request.code_length is None else request.code_length  # 0 is refused, not 6
    return GrantTarget.of_locks(locks, length, Alphabet.NUMERIC)


def _choose_code(
    uow: UnitOfWork,
    target: GrantTarget,
    window: TimeWindow,
    grant_id: str | None = None,
    retired: str | None = None,
) -> str:
    """A fresh code, kept apart from grants within the lead time if the code space allows.

    ``grant_id``'s own code is not in the way; ``retired`` (the code being replaced) is.
    """
    uow.touch_locks(target.lock_ids)
    if target.lead > timedelta(0):
        widened = window.widened(target.lead, target.lead)
        try:
            taken = _taken(uow, target, widened, grant_id, retired)
            return allocate_code(target.policy, taken, uow.rng)
        except CodeSpaceExhausted:
            pass
    return allocate_code(target.policy, _taken(uow, target, window, grant_id, retired), uow.rng)


def _taken(
    uow: UnitOfWork,
    target: GrantTarget,
    window: TimeWindow,
    grant_id: str | None,
    retired: str | None = None,
) -> TakenCodes:
    in_use = uow.grants.codes_in_use(target.lock_ids, window, excluding=grant_id)
    if retired is not None:
        in_use.append(retired)
    return TakenCodes(in_use, target.policy.prefix_free)


def _check_chosen_code(uow: UnitOfWork, target: GrantTarget, window: TimeWindow, code: str) -> None:
    violations = target.policy.violations(code)
    if violations:
        raise CodeRejected("the code " + "; ".join(violations))
    uow.touch_locks(target.lock_ids)
    if _taken(uow, target, window, None).conflicts_with(code):
        raise CodeClash("that code is already in use on one of these locks at that time")


def _recode_if_needed(
    uow: UnitOfWork, caller: Caller, grant: Grant, window: TimeWindow, target: GrantTarget
) -> None:
    code = uow.grants.code_of(grant)
    if not target.policy.accepts(code):
        _replace_code(uow, caller, grant, target, "the code breaks a rule of the new locks")
    elif _taken(uow, target, window, grant.id).conflicts_with(code):
        _replace_code(uow, caller, grant, target, "the code is taken on a shared lock then")


def _replace_code(
    uow: UnitOfWork, caller: Caller, grant: Grant, target: GrantTarget, reason: str
) -> None:
    # Never the code it replaces (a leaked code "regenerated" into itself): it counts as taken.
    retired = uow.grants.code_of(grant)
    code = _choose_code(uow, target, window_of(grant), grant.id, retired)
    uow.grants.set_code(grant, code)
    _bump(uow, grant)
    uow.touch_locks({lock_code.lock_id for lock_code in grant.lock_codes})
    record_event(uow, caller, (SUBJECT, grant.id), "GrantCodeChanged", reason)


def _bump(uow: UnitOfWork, grant: Grant) -> None:
    grant.version += 1
    grant.updated_at = uow.now


def _snapshot(grant: Grant) -> dict[str, Any]:
    """What the audit log keeps of a grant: never its code."""
    return {
        "kind": grant.kind,
        "holder": grant.holder,
        "starts_at": grant.starts_at.isoformat(),
        "ends_at": grant.ends_at.isoformat(),
        "locks": sorted(code.lock_id for code in grant.lock_codes),
        "property_id": grant.property_id,
        "version": grant.version,
    }


def _ids(locks: Sequence[Lock]) -> frozenset[str]:
    return frozenset(lock.id for lock in locks)


def _policy(wanted: CodePolicy, locks: Sequence[Lock]) -> CodePolicy:
    return policy_for_locks(wanted, [capabilities_from_json(lock.capabilities) for lock in locks])


def _leads(prop: Property) -> LeadTimes:
    return LeadTimes(
        timedelta(minutes=prop.native_lead_minutes),
        timedelta(minutes=prop.unscheduled_lead_minutes),
    )


def _leads_of_lock(lock: Lock) -> LeadTimes:
    """The longest lead times among the lock's properties (defaults for a lock in none)."""
    every = [_leads(prop) for prop in lock.properties] or [DEFAULT_LEAD_TIMES]
    return LeadTimes(max(x.native for x in every), max(x.unscheduled for x in every))


def _longest_lead(leads: LeadTimes, locks: Sequence[Lock]) -> timedelta:
    capabilities: list[LockCapabilities] = [
        capabilities_from_json(lock.capabilities) for lock in locks
    ]
    return max((leads.for_lock(caps) for caps in capabilities), default=timedelta(0))
