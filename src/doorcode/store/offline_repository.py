"""Offline key groups and their block lists; the only place their secrets are decrypted."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from doorcode.domain.windows import TimeWindow
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.models import (
    Grant,
    Lock,
    LockCode,
    OfflineBlock,
    OfflineKeyGroup,
    PulledBackupCode,
)
from doorcode.store.row_holds import hold_row

if TYPE_CHECKING:  # the offline-code domain (and its AES) loads when a key group is read
    from doorcode.domain.offline import KeyGroup

__all__ = ["OfflineRepository"]


class OfflineRepository:
    """Key groups of an organisation, their keys, their outstanding and blocked codes."""

    def __init__(self, session: Session, cipher: CodeCipher) -> None:
        self._session = session
        self._cipher = cipher

    def add(self, group: OfflineKeyGroup) -> None:
        """Stage a new key group."""
        self._session.add(group)

    def find(self, organisation_id: str, reference: str) -> OfflineKeyGroup | None:
        """The key group known by id or name."""
        for column in (OfflineKeyGroup.id, OfflineKeyGroup.name):
            query = select(OfflineKeyGroup).where(
                column == reference, OfflineKeyGroup.organisation_id == organisation_id
            )
            found = self._session.scalar(query.options(selectinload(OfflineKeyGroup.locks)))
            if found is not None:
                return found
        return None

    def all(self, organisation_id: str) -> list[OfflineKeyGroup]:
        """The organisation's key groups, by name, locks loaded."""
        query = select(OfflineKeyGroup).where(OfflineKeyGroup.organisation_id == organisation_id)
        query = query.options(selectinload(OfflineKeyGroup.locks)).order_by(OfflineKeyGroup.name)
        return list(self._session.scalars(query))

    def key_group_of(self, group: OfflineKeyGroup) -> KeyGroup:
        """The domain key group, key decrypted: for issuing and reading codes."""
        from doorcode.domain.offline import KeyGroup

        key = bytes.fromhex(self._cipher.decrypt(group.key_token))
        return KeyGroup(key, UUID(group.group_uuid), group.epoch, group.digits)

    def store_key(self, group: OfflineKeyGroup, key_group: KeyGroup) -> None:
        """Keep ``key_group``'s key for ``group``, encrypted."""
        group.key_token = self._cipher.encrypt(key_group.key.hex())
        group.epoch = key_group.epoch
        group.digits = key_group.digits

    def programming_code_of(self, group: OfflineKeyGroup) -> str:
        """The code that puts the group's locks into programming mode."""
        return self._cipher.decrypt(group.programming_code_token)

    def store_programming_code(self, group: OfflineKeyGroup, programming_code: str) -> None:
        """Keep the programming code, encrypted."""
        group.programming_code_token = self._cipher.encrypt(programming_code)

    def outstanding_grants(self, group_id: str) -> list[Grant]:
        """Unrevoked grants whose code is one of the group's offline codes."""
        query = select(Grant).where(
            Grant.offline_key_group_id == group_id, Grant.revoked_at.is_(None)
        )
        return list(self._session.scalars(query.options(selectinload(Grant.lock_codes))))

    def offline_code_of(self, lock_code: LockCode) -> str | None:
        """The offline code a grant holds on one offline lock, in clear."""
        token = lock_code.offline_code_token
        return None if token is None else self._cipher.decrypt(token)

    def set_offline_code(self, lock_code: LockCode, code: str, window: TimeWindow) -> None:
        """Give a grant's lock code its offline code and the window that code opens."""
        lock_code.offline_code_token = self._cipher.encrypt(code)
        lock_code.offline_starts_at, lock_code.offline_ends_at = window.starts_at, window.ends_at

    def set_vendor_offline_code(
        self,
        lock_code: LockCode,
        code: str,
        window: TimeWindow,
        vendor: str,
        rules: tuple[str, ...],
        code_ref: str | None,
    ) -> None:
        """Give a lock code the offline code a vendor's cloud computed, with its rules."""
        self.set_offline_code(lock_code, code, window)
        lock_code.offline_vendor = vendor
        lock_code.offline_rules = list(rules)
        lock_code.offline_code_ref = code_ref

    def clear_offline_code(self, lock_code: LockCode) -> None:
        """Forget a lock code's offline code (after blocking it, when it is doorcode's)."""
        lock_code.offline_code_token = None
        lock_code.offline_starts_at = lock_code.offline_ends_at = None
        lock_code.offline_vendor = lock_code.offline_code_ref = None
        lock_code.offline_rules = None

    def record_pulled_backup(
        self, organisation_id: str, grant_id: str, lock_id: str, code_ref: str, at: datetime
    ) -> None:
        """Remember that a backup-pool code is on the lock for this grant, until deleted.

        Kept whatever became of the grant's lock code meanwhile (the pass pulled it, so it is
        on the lock); only a grant or lock no longer in the database cannot be recorded.
        """
        query = select(PulledBackupCode.id).where(
            PulledBackupCode.grant_id == grant_id,
            PulledBackupCode.lock_id == lock_id,
            PulledBackupCode.code_ref == code_ref,
            PulledBackupCode.removed_at.is_(None),
        )
        if self._session.scalar(query.limit(1)) is not None:
            return  # handed out again (Seam gives one code the same backup): one record
        if self._session.get(Grant, grant_id) is None or self._session.get(Lock, lock_id) is None:
            return  # deleted meanwhile: no row to hang the record on
        self._session.add(
            PulledBackupCode(
                organisation_id=organisation_id,
                grant_id=grant_id,
                lock_id=lock_id,
                code_ref=code_ref,
                pulled_at=at,
            )
        )

    def holds_pulled_backup(self, lock_code: LockCode) -> bool:
        """Whether the lock code's vendor code is a backup-pool code still on the lock."""
        if lock_code.offline_code_ref is None:
            return False
        query = select(PulledBackupCode.id).where(
            PulledBackupCode.grant_id == lock_code.grant_id,
            PulledBackupCode.lock_id == lock_code.lock_id,
            PulledBackupCode.code_ref == lock_code.offline_code_ref,
            PulledBackupCode.removed_at.is_(None),
        )
        return self._session.scalar(query.limit(1)) is not None

    def pending_backups(self, lock_id: str) -> int:
        """How many backup-pool codes doorcode pulled are on the lock still (not deleted)."""
        query = select(func.count(PulledBackupCode.id)).where(
            PulledBackupCode.lock_id == lock_id, PulledBackupCode.removed_at.is_(None)
        )
        return self._session.scalar(query) or 0

    def mark_backups_removed(self, record_ids: Collection[str], at: datetime) -> None:
        """The reconciler deleted these backup codes from their locks (or found them gone)."""
        if record_ids:
            self._session.execute(
                update(PulledBackupCode)
                .where(PulledBackupCode.id.in_(sorted(record_ids)))
                .values(removed_at=at)
            )

    def lock_code(self, grant_id: str, lock_id: str) -> LockCode | None:
        """One grant's lock code on one lock."""
        return self._session.get(LockCode, (grant_id, lock_id))

    def offline_lock_codes(self, group_id: str) -> list[LockCode]:
        """Lock codes on the group's locks that hold an offline code of an unrevoked grant."""
        query = (
            select(LockCode)
            .join(Grant, Grant.id == LockCode.grant_id)
            .join(Lock, Lock.id == LockCode.lock_id)
            .where(
                Lock.offline_key_group_id == group_id,
                LockCode.offline_code_token.is_not(None),
                Grant.revoked_at.is_(None),
            )
        )
        return list(self._session.scalars(query))

    def add_block(self, block: OfflineBlock, code: str) -> None:
        """Put ``code`` on the group's block list."""
        block.code_token = self._cipher.encrypt(code)
        self._session.add(block)

    def blocks(self, group_id: str, key_version: int) -> list[OfflineBlock]:
        """The block list under the group's current key (a rotation empties it)."""
        query = select(OfflineBlock).where(
            OfflineBlock.key_group_id == group_id, OfflineBlock.key_version == key_version
        )
        return list(self._session.scalars(query.order_by(OfflineBlock.blocked_at)))

    def code_of_block(self, block: OfflineBlock) -> str:
        """The blocked code in clear."""
        return self._cipher.decrypt(block.code_token)

    def blocked_codes(self, group: OfflineKeyGroup) -> set[str]:
        """The codes blocked under the group's current key."""
        return {self.code_of_block(block) for block in self.blocks(group.id, group.key_version)}

    def taken_codes(self, group: OfflineKeyGroup, excluding: str | None = None) -> set[str]:
        """Every code a new offline code of the group must differ from.

        Issuing is deterministic (one window, one code), so without this two grants with the
        same window would share a code. Taken are: blocked codes, standalone offline grants'
        codes, and the offline codes guests hold on the group's locks (but not those of the
        grant ``excluding``, which is being given a new one).

        The group is held first: two codes issued at once for one window would otherwise
        read the same taken set and come out equal.
        """
        hold_row(self._session, OfflineKeyGroup.id, group.id)
        taken = self.blocked_codes(group)
        for grant in self.outstanding_grants(group.id):
            if grant.id != excluding:
                taken.add(self._cipher.decrypt(grant.code_token))
        for lock_code in self.offline_lock_codes(group.id):
            code = self.offline_code_of(lock_code)
            if code is not None and lock_code.grant_id != excluding:
                taken.add(code)
        return taken
