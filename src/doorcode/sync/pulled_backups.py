"""Deleting backup-pool codes from a lock once their grant no longer holds them.

A code pulled from a back-end's backup pool (Seam) for a late code is a real code on the lock:
it opens until it is deleted, not until doorcode forgets it. When its grant is revoked (a
cancelled stay), moved off the backup's window, loses the lock, or its stay is over, the
service layer forgets it on the lock code (``services/offline_lock_codes.py``) but the record
of the pull stays (``PulledBackupCode``). The lock's next pass deletes the code at the
back-end here, before it pulls anything, and the reconciler marks the record removed with a
``BackupCodeDeleted`` event. A code already gone counts as deleted; a failure is tried again.
A 429 ends the deletions at once and is handed back (``rate_limited``): the pass pauses the
account as after any other call the back-end throttled, and the codes wait for the pause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.locks.base import LockProvider
from doorcode.locks.errors import CodeNotFound, ProviderError, RateLimited
from doorcode.store.lock_sync import LockRecord
from doorcode.sync.outcomes import EventDraft
from doorcode.sync.retry import pause_after

__all__ = ["BACKUP_DELETED", "RETRY_AFTER", "BackupRemoval", "remove_retired_backups"]

BACKUP_DELETED = "BackupCodeDeleted"
RETRY_AFTER = timedelta(minutes=5)
"""How soon a pass tries again to delete a backup code the back-end would not delete."""


@dataclass(frozen=True, slots=True)
class BackupRemoval:
    """What a pass did about the lock's retired backup codes."""

    removed: tuple[str, ...] = ()
    """Records (``PulledBackupCode`` ids) whose code is off the lock now."""
    events: tuple[EventDraft, ...] = ()
    retry_at: datetime | None = None
    """When to try again, if a deletion failed."""
    failed: int = 0
    """Codes the back-end would not delete: still on the lock, so the pass did not finish."""
    rate_limited: RateLimited | None = None
    """The back-end's 429, if it answered one: no deletion was tried after it."""


async def remove_retired_backups(
    provider: LockProvider, lock: LockRecord, now: datetime
) -> BackupRemoval:
    """Delete every backup code on the lock that no grant holds; one event per code tried."""
    removed: list[str] = []
    events: list[EventDraft] = []
    rate_limited: RateLimited | None = None
    for backup in lock.retired_backups:
        subject = ("grant", backup.grant_id)
        details = {"lock_id": lock.id, "lock": lock.name, "provider_code_id": backup.code_ref}
        try:
            await provider.delete_code(lock.external_id, backup.code_ref)
        except CodeNotFound:
            pass  # deleted already: by hand, or by the back-end at its end
        except ProviderError as err:
            details |= {"operation": "delete_backup_code", "error": type(err).__name__}
            events.append(
                EventDraft(lock.organisation_id, "LockCodeFailed", subject, str(err), details)
            )
            if isinstance(err, RateLimited):
                rate_limited = err
                break  # asked for a break: the next call waits for it, like any other
            continue
        removed.append(backup.record_id)
        events.append(
            EventDraft(lock.organisation_id, BACKUP_DELETED, subject, backup.why, details)
        )
    failed = len(lock.retired_backups) - len(removed)
    retry_at = now + RETRY_AFTER if failed else None
    if rate_limited is not None:
        retry_at = pause_after(rate_limited, now)
    return BackupRemoval(tuple(removed), tuple(events), retry_at, failed, rate_limited)
