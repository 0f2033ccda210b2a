"""Where codes stand on the locks: per grant, per lock, and summed up per lock.

Reads only: the reconciler writes these rows. Codes never appear in any view; an operator who
must see one asks for the grant's code, which is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from doorcode.domain.lock_code_status import LockCodeFacts, LockCodeStatus, lock_code_status
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound
from doorcode.store.models import Grant, Lock, LockCode
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "LockCodeView",
    "LockCodesView",
    "lock_code_status_of",
    "lock_codes",
    "sync_summaries",
]


@dataclass(frozen=True, slots=True)
class LockCodeView:
    """One grant on one lock: desired against actual, and the last attempt."""

    lock_code: LockCode
    grant: Grant
    status: LockCodeStatus


@dataclass(frozen=True, slots=True)
class LockCodesView:
    """A lock with its grants' codes, soonest window first."""

    lock: Lock
    codes: list[LockCodeView]


def lock_code_status_of(
    lock_code: LockCode, grant_version: int, live: bool = True
) -> LockCodeStatus:
    """The status of a stored lock code whose grant is at ``grant_version``."""
    facts = LockCodeFacts(
        desired=lock_code.desired,
        actual=lock_code.actual,
        wait_reason=lock_code.wait_reason,
        confirmed_version=lock_code.confirmed_version,
        last_error=lock_code.last_error,
        visited=lock_code.updated_at is not None,
        accepted_version=lock_code.accepted_version,
    )
    return lock_code_status(facts, grant_version, live)


def lock_codes(
    uow: UnitOfWork, caller: Caller, lock_ref: str, *, include_past: bool = False
) -> LockCodesView:
    """The grants on one lock of the caller's organisation, with where each code stands."""
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        since = None if include_past else uow.now
        rows = uow.lock_sync.codes_on(lock.id, since)
        views = [
            LockCodeView(
                code, grant, lock_code_status_of(code, grant.version, _live(grant, uow.now))
            )
            for code, grant in rows
        ]
        return LockCodesView(lock, views)


def sync_summaries(uow: UnitOfWork, caller: Caller) -> dict[str, Counter[str]]:
    """For each lock of the organisation: how many current grants' codes are in each status."""
    with uow:
        rows = uow.lock_sync.current_codes_of(caller.organisation_id, uow.now)
        summaries: dict[str, Counter[str]] = {}
        for code, version in rows:
            status = lock_code_status_of(code, version).value
            summaries.setdefault(code.lock_id, Counter())[status] += 1
        return summaries


def _live(grant: Grant, now: datetime) -> bool:
    """Whether the grant still wants its code on the locks."""
    return grant.revoked_at is None and grant.ends_at > now
