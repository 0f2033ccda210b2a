"""Offline codes for grants on keypads that never reach the network.

A guest grant covers every lock of its property. On a lock that cannot be programmed at all
(``online=False``, ``offline_codes=True``, in a key group), the guest needs the group's
offline code for their window, not the grant's PIN. Each such lock code therefore carries its
own offline code. All locks of one group share it, so the front and back doors still take one
code.

The window is inside the digits, so a code outlives any change to it. When the window moves, a
new code is issued and the old one goes on the block list. The same happens when a lock
leaves the grant or the grant is revoked. Nothing here talks to a lock: offline locks learn
nothing from the service except through a person typing a block sequence.

A vendor's offline code (TTLock, Seam; the reconciler asks for it, ``sync/vendor_offline.py``)
sits in the same columns but belongs to no key group. When the stay's window leaves the
hours it covers, or the lock leaves the grant, it is forgotten and an event says so: the next
pass asks for one that fits. The vendor's lock cannot be told to refuse the old one, so the
event says until when it still opens. A backup-pool code (Seam) sits there too, but it is a real
code on the lock: forgotten here, it is deleted from the lock by the next pass
(``sync/pulled_backups.py``), which records ``BackupCodeDeleted``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow, vendor_code_fits
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.offline_blocks import add_block
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import Grant, Lock, LockCode, OfflineKeyGroup
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "assign_offline_codes",
    "is_offline_only",
    "retire_offline_codes",
]

SUBJECT = "grant"


def is_offline_only(lock: Lock) -> bool:
    """Whether a lock takes only offline codes from its key group (no network at all)."""
    capabilities = capabilities_from_json(lock.capabilities)
    return (
        not capabilities.online
        and capabilities.offline_codes
        and lock.offline_key_group_id is not None
    )


def assign_offline_codes(uow: UnitOfWork, caller: Caller, grant: Grant) -> None:
    """Give each offline lock of the grant its group's code for the grant's current window."""
    if grant.revoked_at is not None:
        return
    window = TimeWindow(grant.starts_at, grant.ends_at)
    stale = [code for code in grant.lock_codes if not _vendor_code_fits(code, window)]
    _withdraw_vendor_codes(uow, caller, grant, stale, "the stay moved")
    if grant.offline_key_group_id is not None:
        return
    if grant.kind == GrantKind.BACKUP:
        # A backup code exists for codes that get lost on a lock; an offline code cannot be,
        # and a standing one would be a year-long secret only a keypad visit could withdraw.
        return
    _retire_stale_fallbacks(uow, caller, grant, window)
    for group, lock_codes in _by_group(uow, caller, list(grant.lock_codes)).items():
        # Here, for key groups only: at the top every grant command would load the codec.
        from doorcode.domain.offline import OfflineCodec, issuable_cover

        key_group = uow.offline.key_group_of(group)
        wanted = issuable_cover(window, key_group.epoch)
        if all(_holds(lock_code, wanted) for lock_code in lock_codes):
            continue
        _retire(uow, caller, group, lock_codes)
        issued = OfflineCodec(key_group).issue(
            window, avoiding=uow.offline.taken_codes(group, excluding=grant.id)
        )
        for lock_code in lock_codes:
            uow.offline.set_offline_code(lock_code, issued.code, issued.issued)
        after = {
            "key_group_id": group.id,
            "locks": sorted(lock_code.lock_id for lock_code in lock_codes),
            "issued": [issued.issued.starts_at.isoformat(), issued.issued.ends_at.isoformat()],
        }
        record_event(uow, caller, (SUBJECT, grant.id), "OfflineCodeIssued", after=after)


def retire_offline_codes(
    uow: UnitOfWork, caller: Caller, grant: Grant, keeping: Collection[str] = ()
) -> None:
    """Block the offline codes of the grant's locks not in ``keeping`` (all of them by default)."""
    leaving = [code for code in grant.lock_codes if code.lock_id not in set(keeping)]
    why = "the grant was revoked" if grant.revoked_at is not None else "the lock left the grant"
    _withdraw_vendor_codes(uow, caller, grant, leaving, why)
    for group, lock_codes in _by_group(uow, caller, leaving, offline_only=False).items():
        _retire(uow, caller, group, lock_codes)


def _retire_stale_fallbacks(
    uow: UnitOfWork, caller: Caller, grant: Grant, window: TimeWindow
) -> None:
    """Block fallback codes on online locks whose window no longer matches the grant's.

    The reconciler issued them when a PIN was late (sync/offline_fallback.py); it issues a new
    one if the PIN is still missing near the new start.
    """
    fallbacks = [
        lock_code
        for lock_code in grant.lock_codes
        if lock_code.offline_code_token is not None
        and lock_code.offline_vendor is None
        and not is_offline_only(lock_code.lock)
    ]
    for group, lock_codes in _by_group(uow, caller, fallbacks, offline_only=False).items():
        from doorcode.domain.offline import issuable_cover  # key groups only, as above

        wanted = issuable_cover(window, uow.offline.key_group_of(group).epoch)
        stale = [lock_code for lock_code in lock_codes if not _holds(lock_code, wanted)]
        if stale:
            _retire(uow, caller, group, stale)


def _retire(
    uow: UnitOfWork, caller: Caller, group: OfflineKeyGroup, lock_codes: list[LockCode]
) -> None:
    """Block the lock codes' current offline codes (once each) and forget them."""
    seen: set[str] = set()
    for lock_code in lock_codes:
        code = uow.offline.offline_code_of(lock_code)
        starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
        if code is not None and starts and ends and code not in seen:
            seen.add(code)
            add_block(uow, caller, group, code, TimeWindow(starts, ends), lock_code.grant_id)
        uow.offline.clear_offline_code(lock_code)


def _vendor_code_fits(lock_code: LockCode, window: TimeWindow) -> bool:
    """A vendor code (whole hours) still opens exactly the stay (``vendor_code_fits``)."""
    starts, ends = lock_code.offline_starts_at, lock_code.offline_ends_at
    if lock_code.offline_vendor is None or starts is None or ends is None:
        return True
    return vendor_code_fits(TimeWindow(starts, ends), window)


def _withdraw_vendor_codes(
    uow: UnitOfWork, caller: Caller, grant: Grant, lock_codes: Iterable[LockCode], why: str
) -> None:
    """Forget the vendor offline codes among ``lock_codes``, one event each."""
    for lock_code in lock_codes:
        ends = lock_code.offline_ends_at
        if lock_code.offline_vendor is None or ends is None:
            continue
        before = {
            "lock_id": lock_code.lock_id,
            "vendor": lock_code.offline_vendor,
            "opens_until": ends.isoformat(),
        }
        if uow.offline.holds_pulled_backup(lock_code):
            reason = f"{why}; the backup code is deleted from the lock at its next pass"
        else:
            reason = f"{why}; the lock cannot be told, so the old code opens until it ends"
        uow.offline.clear_offline_code(lock_code)
        record_event(
            uow, caller, (SUBJECT, grant.id), "VendorOfflineCodeWithdrawn", reason, before=before
        )


def _holds(lock_code: LockCode, window: TimeWindow) -> bool:
    return lock_code.offline_code_token is not None and (
        lock_code.offline_starts_at,
        lock_code.offline_ends_at,
    ) == (window.starts_at, window.ends_at)


def _by_group(
    uow: UnitOfWork, caller: Caller, lock_codes: list[LockCode], *, offline_only: bool = True
) -> dict[OfflineKeyGroup, list[LockCode]]:
    """Lock codes grouped by their lock's key group.

    By default only lock codes on offline-only locks count. With ``offline_only=False``, any
    lock code holding an offline code counts, fallbacks on online locks included.
    """
    grouped: dict[str, list[LockCode]] = defaultdict(list)
    groups: dict[str, OfflineKeyGroup] = {}
    for lock_code in lock_codes:
        if lock_code.offline_vendor is not None:
            continue  # a vendor's code: no key group of ours computed it
        lock = lock_code.lock or uow.locks.get(caller.organisation_id, lock_code.lock_id)
        if lock is None or lock.offline_key_group_id is None:
            continue
        if not is_offline_only(lock) and (offline_only or lock_code.offline_code_token is None):
            continue
        group_id = lock.offline_key_group_id
        assert group_id is not None
        if group_id not in groups:
            found = uow.offline.find(caller.organisation_id, group_id)
            if found is None:
                continue
            groups[group_id] = found
        grouped[group_id].append(lock_code)
    return {groups[group_id]: codes for group_id, codes in grouped.items()}
