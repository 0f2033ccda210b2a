"""Vendor offline codes: a code the vendor's cloud computes for a lock it cannot program.

Seed 001 (Hosthub with TTLock): a lock with no gateway, or one the cloud says is offline,
still opens with an algorithmic code the lock checks by itself. Where the lock's back-end can
compute one (``abilities.vendor_offline_codes``) and the lock checks them
(``capabilities.offline_codes``), a pass asks for it:

* on a lock that cannot be programmed at all (imported offline: no gateway, an offline-only
  igloohome), for every live grant, as doorcode's own offline keypads get theirs at once;
* on a programmable lock whose back-end said it is offline (TTLock -2012/-3036, Seam
  ``device_offline``), for a grant starting within the alert horizon whose PIN is not on it.

The code is stored exactly where doorcode's own offline codes are (the lock code's encrypted
offline code and window, ``sync/offline_fallback.py``), with the vendor and its rules, so the
review, the operator's views and the guest's message treat both alike. The issuing happens in
the pass (it is I/O); the storing in the reconciler's transaction, only while the grant is
still at the version the code was issued for (a grant moved meanwhile gets a new one next
pass). A lost answer costs nothing: the adapter returns the code it issued under the same name.

A back-end's backup pool (Seam) takes the same path: a guest due soon whose code the lock has
not confirmed gets the pool's backup for it as that lock's stand-in (``BackupCodePulled``).
Unlike an offline code, a backup is a real code on the lock: it is also recorded as pulled,
and deleted from the lock once its grant no longer holds it (``sync/pulled_backups.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doorcode.domain.windows import TimeWindow, vendor_code_fits
from doorcode.locks.base import VendorOfflineCode
from doorcode.store.models import Grant
from doorcode.store.row_holds import hold_row
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.outcomes import EventDraft

__all__ = ["BACKUP_PULLED", "ISSUED", "IssuedVendorCode", "record_pull", "store_vendor_code"]

ISSUED = "VendorOfflineCodeIssued"
BACKUP_PULLED = "BackupCodePulled"


@dataclass(frozen=True, slots=True)
class IssuedVendorCode:
    """A vendor offline code a pass obtained for one grant on one lock, not stored yet."""

    organisation_id: str
    grant_id: str
    lock_id: str
    lock_name: str
    version: int
    vendor: str
    issued: VendorOfflineCode
    reason: str
    kind: str = ISSUED
    """The audit event it becomes: ``VendorOfflineCodeIssued`` or ``BackupCodePulled``."""


def record_pull(uow: UnitOfWork, found: IssuedVendorCode) -> None:
    """Remember a backup the pass pulled: it is on the lock now, whatever became of the stay.

    Recorded before (and whether or not) the code is kept for the guest: a stay cancelled,
    moved or taken off the lock while the pass ran does not take the code off the lock, and a
    code without a record would open the door for good. The next pass deletes a backup that
    no grant holds (``sync/pulled_backups.py``).
    """
    if found.kind == BACKUP_PULLED and found.issued.code_ref is not None:
        uow.offline.record_pulled_backup(
            found.organisation_id, found.grant_id, found.lock_id, found.issued.code_ref, uow.now
        )


def store_vendor_code(uow: UnitOfWork, found: IssuedVendorCode) -> EventDraft | None:
    """Keep the code on the grant's lock code; None when the grant moved on meanwhile.

    The grant's row is held first, so a move committing meanwhile is either seen here or waits
    for this transaction (then withdraws the code). An offline code whose hours no longer fit
    the stay (an adapter handed back one asked for before the stay moved) is refused.
    """
    hold_row(uow.session, Grant.id, found.grant_id)
    record_pull(uow, found)
    lock_code = uow.offline.lock_code(found.grant_id, found.lock_id)
    if lock_code is None or lock_code.offline_code_token is not None:
        return None
    grant = lock_code.grant
    uow.session.refresh(grant)  # read after the hold, not from this session's memory
    if grant.revoked_at is not None or grant.version != found.version:
        return None
    issued = found.issued
    stay = TimeWindow(grant.starts_at, grant.ends_at)
    if found.kind == ISSUED and not vendor_code_fits(issued.window, stay):
        return None  # a backup keeps its code's window, lead time included
    uow.offline.set_vendor_offline_code(
        lock_code, issued.code, issued.window, found.vendor, issued.rules, issued.code_ref
    )
    after: dict[str, Any] = {
        "lock_id": found.lock_id,
        "lock": found.lock_name,
        "vendor": found.vendor,
        "issued": [issued.window.starts_at.isoformat(), issued.window.ends_at.isoformat()],
        "rules": list(issued.rules),
    }
    return EventDraft(
        found.organisation_id,
        found.kind,
        ("grant", found.grant_id),
        found.reason,
        {"after": after},
    )
