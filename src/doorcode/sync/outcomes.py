"""What a pass over a lock produces: its outcome, the new sync state, and audit event drafts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from doorcode.locks.health import LockHealth
from doorcode.store.lock_sync import LockCodeState, LockRecord, LockSyncState

if TYPE_CHECKING:
    from doorcode.sync.vendor_offline import IssuedVendorCode

__all__ = ["EventDraft", "LockOutcome", "LockResult"]


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An audit event to write with the pass's results; never carries a code."""

    organisation_id: str
    kind: str
    subject: tuple[str, str]
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class LockOutcome:
    """What one pass did to one lock, for people and for schedulers."""

    lock_id: str
    lock_name: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    adopted: int = 0
    failed: int = 0
    skipped: str | None = None
    error: str | None = None
    next_sync_at: datetime | None = None

    @property
    def summary(self) -> str:
        """One line for a terminal."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if self.error:
            return f"failed: {self.error}"
        counts = [
            f"{number} {word}"
            for number, word in (
                (self.created, "created"),
                (self.updated, "updated"),
                (self.deleted, "deleted"),
                (self.adopted, "adopted"),
                (self.failed, "failed"),
            )
            if number
        ]
        return ", ".join(counts) or "in sync"


@dataclass(frozen=True, slots=True)
class LockResult:
    """The pass's outcome, the lock's new sync state, and the changed lock codes."""

    outcome: LockOutcome
    lock: LockRecord
    state: LockSyncState
    codes: dict[str, LockCodeState]
    events: list[EventDraft]
    crashed: bool = False
    """The pass raised an unexpected error; the lock's state records it, nothing else changed."""
    refused: str | None = None
    """Why the back-end refused the lock's account credentials, when it did in this pass."""
    health: LockHealth | None = None
    """The lock's health, when the pass asked the back-end for it."""
    gone: bool | None = None
    """True: the back-end no longer knows the device; False: it answered for it; None: unknown."""
    offline_codes: tuple[IssuedVendorCode, ...] = ()
    """Vendor offline codes the pass obtained, to be stored with their grants' lock codes."""
    backups_removed: tuple[str, ...] = ()
    """Pulled backup codes (record ids) the pass deleted from the lock, to be marked removed."""
    written: dict[str, str] = field(default_factory=dict)
    """Grant id -> the code token whose PIN the pass wrote or read back, where the record
    said otherwise: what a later pass compares a masked code with."""
