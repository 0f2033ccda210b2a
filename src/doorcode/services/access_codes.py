"""Every lock of a grant with the code that opens it: "all access codes".

Usually that is the grant's one code on every lock. A keypad that never reaches the network
takes its key group's offline code for the grant's window instead (``offline_lock_codes``),
and a lock that is offline without a key group has no code the service can give: the host
lets the guest in another way. Reading codes for an operator goes through ``reveal_code``,
which refuses viewers and records the reveal in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from doorcode.services.caller import Caller
from doorcode.services.grants import reveal_code
from doorcode.services.offline_lock_codes import is_offline_only
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import Grant, LockCode
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["AccessCode", "access_codes_of", "reveal_access_codes"]


@dataclass(frozen=True, slots=True)
class AccessCode:
    """One lock and what opens it; ``code`` is None when no code of ours can open it."""

    lock_id: str
    lock_name: str
    code: str | None = field(repr=False)
    offline: bool
    valid_from: datetime
    valid_until: datetime


def access_codes_of(uow: UnitOfWork, grant: Grant) -> list[AccessCode]:
    """The grant's codes per lock, by lock name; part of the caller's transaction, unaudited.

    Only for callers that already decided the reader may see them (the guidebook, within
    its reveal window, for the guest's own grant).
    """
    code = uow.grants.code_of(grant)
    found = [_access_code(uow, grant, lock_code, code) for lock_code in grant.lock_codes]
    return sorted(found, key=lambda access: (access.lock_name, access.lock_id))


def reveal_access_codes(uow: UnitOfWork, caller: Caller, grant_id: str) -> list[AccessCode]:
    """An operator's view of every code of the grant; audited once, refused to viewers."""
    reveal_code(uow, caller, grant_id)
    with uow:
        grant = uow.grants.get(caller.organisation_id, grant_id)
        assert grant is not None
        return access_codes_of(uow, grant)


def _access_code(uow: UnitOfWork, grant: Grant, lock_code: LockCode, code: str) -> AccessCode:
    lock = lock_code.lock
    window = (grant.starts_at, grant.ends_at)
    if is_offline_only(lock) and grant.offline_key_group_id is None:
        offline_code = uow.offline.offline_code_of(lock_code)
        starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
        opens = (starts, ends) if starts and ends else window
        return AccessCode(lock.id, lock.name, offline_code, True, *opens)
    online = capabilities_from_json(lock.capabilities).online
    offline_grant = grant.offline_key_group_id is not None
    usable = code if online or offline_grant else None
    return AccessCode(lock.id, lock.name, usable, offline_grant, *window)
