"""Offline codes standing in for PINs that did not reach an online lock in time.

Seed 001 (Hosthub with TTLock): when a lock that could take a PIN over the network is offline
when the code must be set, and the lock supports offline codes, the guest gets an offline code
for that door instead. Here that happens when the reconciler's review sees a grant close to its
start (the alert horizon) whose PIN is still not on such a lock. The lock must belong to a key
group. The code carries the grant's window and the lock checks it by itself, so it works
whether or not the PIN arrives later. If the dates move, the service blocks it, and the
reconciler issues a new one if it is still needed.
"""

from __future__ import annotations

from doorcode.domain.offline import OfflineCodec
from doorcode.domain.windows import TimeWindow
from doorcode.store.lock_sync import GrantLockState
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.outcomes import EventDraft

__all__ = ["issue_fallback"]


def issue_fallback(uow: UnitOfWork, row: GrantLockState) -> EventDraft | None:
    """Give the grant's lock code on ``row``'s lock its key group's offline code.

    Returns the event to record, or None when the lock's group is gone. Locks of the same
    group get the same code for the same grant, as they would for an offline keypad.
    """
    group = uow.offline.find(row.organisation_id, row.offline_key_group_id or "")
    lock_code = uow.offline.lock_code(row.grant_id, row.lock_id)
    if group is None or lock_code is None:
        return None
    sibling = _sibling(uow, row, group.id)
    if sibling is not None:
        code, opens = sibling
    else:
        window = TimeWindow(row.starts_at, row.ends_at)
        taken = uow.offline.taken_codes(group, excluding=row.grant_id)
        issued = OfflineCodec(uow.offline.key_group_of(group)).issue(window, avoiding=taken)
        code, opens = issued.code, issued.issued
    uow.offline.set_offline_code(lock_code, code, opens)
    after = {
        "lock_id": row.lock_id,
        "key_group_id": group.id,
        "issued": [opens.starts_at.isoformat(), opens.ends_at.isoformat()],
    }
    reason = f"{row.lock_name} has not taken the code: its offline code stands in"
    return EventDraft(
        row.organisation_id,
        "OfflineFallbackIssued",
        ("grant", row.grant_id),
        reason,
        {"after": after},
    )


def _sibling(uow: UnitOfWork, row: GrantLockState, group_id: str) -> tuple[str, TimeWindow] | None:
    """The offline code, and the window it opens, that another lock of the same group
    already holds for this grant: the sibling's code is the grant's code on the group."""
    for lock_code in uow.offline.offline_lock_codes(group_id):
        if lock_code.grant_id == row.grant_id and lock_code.lock_id != row.lock_id:
            code = uow.offline.offline_code_of(lock_code)
            starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
            if code is not None and starts is not None and ends is not None:
                return code, TimeWindow(starts, ends)
    return None
