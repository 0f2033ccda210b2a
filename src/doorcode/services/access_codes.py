"""Every lock of a grant with the code that opens it: "all access codes".

Usually that is the grant's one code on every lock. A lock that holds an offline code for
the grant takes that instead: a keypad that never reaches the network gets its key group's
code for the grant's window (``offline_lock_codes``), and an online lock that missed the PIN
gets one standing in (``sync/offline_fallback``). Which locks have one is decided by the
same rule ``grants.reveal_access`` uses, so what an operator is shown is what was revealed.
A lock that is offline with no such code has no code the service can give: the host lets
the guest in another way. Reading codes for an operator goes through
``reveal_access_codes``, which refuses viewers and records the reveal in the audit log, in
the same transaction that reads the codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound
from doorcode.services.grants import SUBJECT, LockAccess, offline_access_of
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
    rules: tuple[str, ...] = ()
    """A vendor offline code's conditions ("use it once within 24 hours ...")."""


def access_codes_of(uow: UnitOfWork, grant: Grant) -> list[AccessCode]:
    """The grant's codes per lock, by lock name; part of the caller's transaction, unaudited.

    Only for callers that already decided the reader may see them (the guidebook, within
    its reveal window, for the guest's own grant).
    """
    offline = {access.lock_id: access for access in offline_access_of(uow, grant)}
    code = uow.grants.code_of(grant)
    found = [_access_code(grant, lock_code, code, offline) for lock_code in grant.lock_codes]
    return sorted(found, key=lambda access: (access.lock_name, access.lock_id))


def reveal_access_codes(uow: UnitOfWork, caller: Caller, grant_id: str) -> list[AccessCode]:
    """An operator's view of every code of the grant; audited once, refused to viewers.

    One transaction reads the codes and records the reveal, as ``grants.reveal_access``
    does, so the event stands for exactly the codes returned.
    """
    caller.require_writer()
    with uow:
        grant = uow.grants.get(caller.organisation_id, grant_id)
        if grant is None:
            raise NotFound("grant", grant_id)
        codes = access_codes_of(uow, grant)
        record_event(uow, caller, (SUBJECT, grant.id), "GrantCodeRevealed", "shown to an operator")
        uow.commit()
        return codes


def _access_code(
    grant: Grant, lock_code: LockCode, code: str, offline: dict[str, LockAccess]
) -> AccessCode:
    lock = lock_code.lock
    own = offline.get(lock.id)
    if own is not None:
        return AccessCode(
            lock.id,
            lock.name,
            own.code,
            True,
            own.window.starts_at,
            own.window.ends_at,
            own.rules,
        )
    online = capabilities_from_json(lock.capabilities).online
    offline_grant = grant.offline_key_group_id is not None
    usable = code if online or offline_grant else None
    return AccessCode(lock.id, lock.name, usable, offline_grant, grant.starts_at, grant.ends_at)
