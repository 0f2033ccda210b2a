"""What the reconciler reads and writes: locks with their grants in bulk, and the sync columns.

The reconciler works across organisations (it is the system, not a caller), many locks at a
time. So these queries load a whole batch of locks with two statements, return plain frozen
records (no ORM objects cross an ``await``), and write back with one executemany per table,
touching only rows whose sync state changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, nulls_first, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorcode.domain.grants import GrantKind
from doorcode.domain.lead_times import DEFAULT_LEAD_TIMES, LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.slots import SlotRange, owned_slots
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import (
    Base,
    Grant,
    Lock,
    LockCode,
    Property,
    PulledBackupCode,
    property_locks,
)

__all__ = [
    "ABSENT",
    "PRESENT",
    "GrantLockState",
    "HealthReport",
    "LockCodeRecord",
    "LockCodeState",
    "LockRecord",
    "LockSyncRepository",
    "LockSyncState",
    "RecordedDevice",
    "RetiredBackup",
    "code_row",
    "lead_times",
]

PRESENT = "present"
ABSENT = "absent"


class HealthReport(NamedTuple):
    """What a back-end said about one lock's health."""

    lock_id: str
    online: bool | None
    battery_percent: int | None
    last_contact_at: datetime | None


class RecordedDevice(NamedTuple):
    """A lock as recorded, in the terms its back-end uses."""

    external_id: str
    name: str
    capabilities: LockCapabilities


@dataclass(frozen=True, slots=True)
class LockCodeState:
    """The sync columns of one lock code, as the reconciler leaves them after a pass."""

    desired: str = ABSENT
    wait_reason: str | None = None
    actual: str = ABSENT
    provider_code_id: str | None = None
    confirmed_version: int | None = None
    attempted_version: int | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    accepted_version: int | None = None
    """The grant version the back-end accepted but the device has not confirmed yet."""


@dataclass(frozen=True, slots=True)
class LockCodeRecord:
    """One grant on one lock: the grant's facts (code still encrypted) and the sync state."""

    grant_id: str
    code_token: str = field(repr=False)
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    version: int
    leads: LeadTimes
    state: LockCodeState
    visited: bool
    spare: bool = False
    has_offline_code: bool = False
    slot: int | None = None
    """On a slot-addressed lock, the slot the grant took (recorded before its code is written)."""
    written_code_token: str | None = field(default=None, repr=False)
    """The code token whose PIN doorcode last wrote to or read back from the lock (None:
    unknown); on a lock that masks PINs, how the current PIN is told from an older one."""


@dataclass(frozen=True, slots=True)
class RetiredBackup:
    """A backup-pool code on the lock whose grant no longer holds it: to be deleted."""

    record_id: str
    grant_id: str
    code_ref: str
    why: str


@dataclass(frozen=True, slots=True)
class LockSyncState:
    """The sync columns of one lock."""

    synced_requests: int
    synced_at: datetime | None
    next_sync_at: datetime | None
    sync_error: str | None = None
    sync_attempts: int = 0
    sync_retry_at: datetime | None = None
    unmanaged_codes: tuple[str, ...] = ()
    inventoried_at: datetime | None = None
    """When a pass first completed the lock's listing (``unmanaged_codes`` then holds the
    owner's codes); None until then, whatever passes failed or crashed before."""


@dataclass(frozen=True, slots=True)
class LockRecord:
    """A lock as the reconciler needs it, with the lock codes that still matter."""

    id: str
    organisation_id: str
    name: str
    provider: str
    external_id: str
    capabilities: LockCapabilities
    sync_requests: int
    state: LockSyncState
    codes: tuple[LockCodeRecord, ...]
    account_id: str | None = None
    health_checked_at: datetime | None = None
    slots: SlotRange | None = None
    """The slots doorcode owns, on a slot-addressed lock (None: the lock did not say)."""
    retired_backups: tuple[RetiredBackup, ...] = ()
    """Backup-pool codes still on the lock that no grant holds any more."""
    backups_deleted_for: frozenset[str] = frozenset()
    """Grants whose backup-pool code on the lock was deleted: Seam gives a code one backup only."""

    @property
    def account_key(self) -> str:
        """What rate limits are kept per: the provider account (or the kind, without one)."""
        return self.account_id or self.provider

    @property
    def has_pending_request(self) -> bool:
        """Whether a grant changed since the last completed pass saw this lock."""
        return self.sync_requests > self.state.synced_requests


@dataclass(frozen=True, slots=True)
class GrantLockState:
    """One lock code of a grant, with what deciding "is this grant's code everywhere" needs."""

    grant_id: str
    organisation_id: str
    holder: str
    grant_version: int
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    codes_set_version: int | None
    lock_id: str
    lock_name: str
    lock_error: str | None
    programmable: bool
    state: LockCodeState
    spare: bool = False
    offline_capable: bool = False
    has_offline_code: bool = False
    offline_key_group_id: str | None = None


class LockSyncRepository:
    """Bulk reads and writes of the sync state; used by the reconciler and its runners."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load(self, lock_ids: Collection[str], now: datetime) -> list[LockRecord]:
        """The locks, in the order asked, with every lock code that is live or not yet settled."""
        if not lock_ids:
            return []
        ids = sorted(lock_ids)
        locks = self._session.execute(
            select(
                Lock.id,
                Lock.organisation_id,
                Lock.name,
                Lock.provider,
                Lock.account_id,
                Lock.health_checked_at,
                Lock.external_id,
                Lock.capabilities,
                Lock.sync_requests,
                Lock.synced_requests,
                Lock.synced_at,
                Lock.next_sync_at,
                Lock.sync_error,
                Lock.sync_attempts,
                Lock.sync_retry_at,
                Lock.unmanaged_codes,
                Lock.inventoried_at,
                Lock.slot_first,
                Lock.slot_last,
            ).where(Lock.id.in_(ids))
        ).all()
        codes = self._codes_of(ids, now)
        defaults = self._default_leads(ids)
        retired = self._retired_backups_of(ids, now)
        deleted = self._backups_deleted_for(ids)
        place = {lock_id: n for n, lock_id in enumerate(lock_ids)}
        ordered = sorted(locks, key=lambda row: place[row.id])  # the caller's order: fairness
        return [
            replace(
                _lock_record(row, codes.get(row.id, []), defaults.get(row.id)),
                retired_backups=tuple(retired.get(row.id, ())),
                backups_deleted_for=frozenset(deleted.get(row.id, ())),
            )
            for row in ordered
        ]

    def _retired_backups_of(
        self, lock_ids: list[str], now: datetime
    ) -> dict[str, list[RetiredBackup]]:
        """Pulled backup codes not deleted yet whose grant no longer holds them, by lock."""
        query = (
            select(
                PulledBackupCode.id,
                PulledBackupCode.lock_id,
                PulledBackupCode.grant_id,
                PulledBackupCode.code_ref,
                Grant.id.label("grant_row"),
                Grant.revoked_at,
                Grant.ends_at,
                LockCode.grant_id.label("on_lock"),
                LockCode.offline_code_ref,
            )
            # Outer: a grant row deleted outright holds nothing; its code must still leave.
            .outerjoin(Grant, Grant.id == PulledBackupCode.grant_id)
            .outerjoin(
                LockCode,
                and_(
                    LockCode.grant_id == PulledBackupCode.grant_id,
                    LockCode.lock_id == PulledBackupCode.lock_id,
                ),
            )
            .where(PulledBackupCode.lock_id.in_(lock_ids), PulledBackupCode.removed_at.is_(None))
            .order_by(PulledBackupCode.pulled_at, PulledBackupCode.id)
        )
        found: dict[str, list[RetiredBackup]] = defaultdict(list)
        for row in self._session.execute(query):
            why = _why_retired(row, now)
            if why is not None:
                found[row.lock_id].append(RetiredBackup(row.id, row.grant_id, row.code_ref, why))
        return found

    def _backups_deleted_for(self, lock_ids: list[str]) -> dict[str, set[str]]:
        """Grants, by lock, whose pulled backup code the reconciler deleted from the lock."""
        query = (
            select(PulledBackupCode.lock_id, PulledBackupCode.grant_id)
            .where(PulledBackupCode.lock_id.in_(lock_ids), PulledBackupCode.removed_at.is_not(None))
            .distinct()
        )
        found: dict[str, set[str]] = defaultdict(set)
        for lock_id, grant_id in self._session.execute(query):
            found[lock_id].add(grant_id)
        return found

    def save(self, states: dict[str, LockSyncState], codes: Sequence[dict[str, Any]]) -> None:
        """Write the locks' sync columns and the changed lock codes (dicts from ``code_row``)."""
        # Core executemany by key: a row deleted meanwhile (a grant moved off the lock) is
        # simply not updated, where the ORM's bulk update would call it stale.
        if states:
            locks = Base.metadata.tables["locks"]
            self._session.execute(
                update(locks).where(locks.c.id == bindparam("lock_key")),
                [_lock_row(lock_id, state) for lock_id, state in states.items()],
            )
        if codes:
            lock_codes = Base.metadata.tables["lock_codes"]
            self._session.execute(
                update(lock_codes).where(
                    lock_codes.c.grant_id == bindparam("grant_key"),
                    lock_codes.c.lock_id == bindparam("lock_key"),
                ),
                list(codes),
            )

    def save_written(self, written: Sequence[tuple[str, str, str]]) -> None:
        """Record (lock id, grant id, code token) whose PIN a pass wrote or read back there."""
        if not written:
            return
        lock_codes = Base.metadata.tables["lock_codes"]
        self._session.execute(
            update(lock_codes).where(
                lock_codes.c.grant_id == bindparam("grant_key"),
                lock_codes.c.lock_id == bindparam("lock_key"),
            ),
            [
                {"lock_key": lock_id, "grant_key": grant_id, "written_code_token": token}
                for lock_id, grant_id, token in written
            ],
        )

    def save_health(self, reports: Sequence[HealthReport], at: datetime) -> None:
        """Keep the health back-ends just reported, one statement for the whole batch."""
        if not reports:
            return
        locks = Base.metadata.tables["locks"]
        self._session.execute(
            update(locks).where(locks.c.id == bindparam("lock_key")),
            [
                {
                    "lock_key": report.lock_id,
                    "health_online": report.online,
                    "health_battery": report.battery_percent,
                    "health_contact_at": report.last_contact_at,
                    "health_checked_at": at,
                }
                for report in reports
            ],
        )

    def grant_states(self, grant_ids: Collection[str]) -> dict[str, list[GrantLockState]]:
        """Every lock code of these grants, on any lock, by grant id."""
        found: dict[str, list[GrantLockState]] = defaultdict(list)
        programmable: dict[str, bool] = {}
        offline_capable: dict[str, bool] = {}
        for chunk in chunked(sorted(grant_ids)):
            query = (
                select(*_GRANT_STATE_COLUMNS)
                .join(Lock, Lock.id == LockCode.lock_id)
                .join(Grant, Grant.id == LockCode.grant_id)
                .where(LockCode.grant_id.in_(chunk))
            )
            for row in self._session.execute(query):
                if row.lock_id not in programmable:
                    capabilities = capabilities_from_json(row.capabilities)
                    programmable[row.lock_id] = capabilities.online
                    offline_capable[row.lock_id] = capabilities.offline_codes
                state = self._grant_state(row, programmable[row.lock_id])
                state = replace(state, offline_capable=offline_capable[row.lock_id])
                found[row.grant_id].append(state)
        return found

    @staticmethod
    def _grant_state(row: Any, programmable: bool) -> GrantLockState:
        return GrantLockState(
            grant_id=row.grant_id,
            organisation_id=row.organisation_id,
            holder=row.holder,
            grant_version=row.version,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            revoked_at=row.revoked_at,
            codes_set_version=row.codes_set_version,
            lock_id=row.lock_id,
            lock_name=row.name,
            lock_error=row.sync_error,
            programmable=programmable,
            state=_state_of(row),
            spare=is_spare(row.kind, row.reservation_id),
            has_offline_code=bool(row.has_offline_code),
            offline_key_group_id=row.offline_key_group_id,
        )

    def reserve_slot(
        self, lock_id: str, grant_id: str, slot: int, written: str | None = None
    ) -> bool:
        """Hold ``slot`` of a lock for a grant, before its code is written there.

        ``written`` is the code token about to be written into the (empty) slot, recorded in
        the same commit: a pass killed after the write leaves the record right, so the next
        pass takes a masked code there for that PIN without writing it again. None when what
        the slot will hold is not known.

        False when another grant holds that slot: a pass in another process reserved it first
        (the unique index over held slots refuses a second holder, waiting for the other
        transaction to end). The transaction is then spoilt: roll it back, commit nothing.
        False too when the grant already holds another slot, reserved by a pass that read the
        records before this one: the hold never moves, or that pass's code would be left in a
        slot nobody holds.
        """
        lock_codes = Base.metadata.tables["lock_codes"]
        statement = (
            update(lock_codes)
            .where(
                lock_codes.c.lock_id == lock_id,
                lock_codes.c.grant_id == grant_id,
                or_(
                    lock_codes.c.slot.is_(None),
                    lock_codes.c.slot == slot,
                    lock_codes.c.slot_released_at.is_not(None),
                ),
            )
            .values(slot=slot, slot_released_at=None, written_code_token=written)
        )
        try:
            updated = self._session.execute(statement)
        except IntegrityError:
            return False
        return getattr(updated, "rowcount", 0) == 1

    def release_slots(self, lock_ids: Collection[str], now: datetime) -> None:
        """Free the slots of grants that are over and whose codes are off the lock.

        Only held slots are looked at (the partial index over them), so a sweep's batch costs
        as many rows as its locks have codes in slots, not its history.
        """
        lock_codes = Base.metadata.tables["lock_codes"]
        for chunk in chunked(sorted(lock_ids)):
            self._session.execute(
                update(lock_codes)
                .where(*_releasable_slots(lock_codes, chunk, now))
                .values(slot_released_at=now)
            )

    def has_releasable_slots(self, lock_ids: Collection[str], now: datetime) -> bool:
        """Whether ``release_slots`` would free anything: asked first, because on SQLite even
        an UPDATE that changes no row waits for the one writer."""
        lock_codes = Base.metadata.tables["lock_codes"]
        return any(
            self._session.scalar(
                select(
                    select(lock_codes.c.lock_id)
                    .where(*_releasable_slots(lock_codes, chunk, now))
                    .exists()
                )
            )
            for chunk in chunked(sorted(lock_ids))
        )

    def held_slots(self, lock_id: str, now: datetime) -> dict[int, str]:
        """Slot -> grant id of every slot on the lock a grant still holds (live, or not cleared)."""
        query = (
            select(LockCode.slot, LockCode.grant_id)
            .join(Grant, Grant.id == LockCode.grant_id)
            .where(
                LockCode.lock_id == lock_id,
                LockCode.slot.is_not(None),
                or_(
                    and_(Grant.revoked_at.is_(None), Grant.ends_at > now),
                    LockCode.actual != ABSENT,
                ),
            )
        )
        rows = self._session.execute(query)
        return {slot: grant_id for slot, grant_id in rows if slot is not None}

    def mark_codes_set(self, grant_id: str, version: int) -> None:
        """Remember that ``GrantCodesSet`` was announced for this version of the grant."""
        self._session.execute(
            update(Grant).where(Grant.id == grant_id).values(codes_set_version=version)
        )

    def devices_of(self, provider: str) -> list[RecordedDevice]:
        """Every lock recorded with ``provider``: its device id, name and capabilities."""
        query = select(Lock.external_id, Lock.name, Lock.capabilities).where(
            Lock.provider == provider
        )
        return [
            RecordedDevice(external_id, name, capabilities_from_json(capabilities))
            for external_id, name, capabilities in self._session.execute(query)
        ]

    def codes_on(self, lock_id: str, since: datetime | None) -> list[tuple[LockCode, Grant]]:
        """The lock's lock codes with their grants, soonest start first; with ``since``, only
        grants not over by then or whose code may still be on the lock."""
        query = (
            select(LockCode, Grant)
            .join(Grant, Grant.id == LockCode.grant_id)
            .where(LockCode.lock_id == lock_id)
            .order_by(Grant.starts_at, Grant.id)
        )
        if since is not None:
            query = query.where(or_(Grant.ends_at > since, LockCode.actual != ABSENT))
        return [(code, grant) for code, grant in self._session.execute(query)]

    def current_codes_of(self, organisation_id: str, now: datetime) -> list[tuple[LockCode, int]]:
        """Lock codes of the organisation's unrevoked grants that are not over, with versions."""
        query = (
            select(LockCode, Grant.version)
            .join(Grant, Grant.id == LockCode.grant_id)
            .where(
                Grant.organisation_id == organisation_id,
                Grant.revoked_at.is_(None),
                Grant.ends_at > now,
            )
        )
        return [(code, version) for code, version in self._session.execute(query)]

    def all_lock_ids(self, organisation_id: str | None = None) -> list[str]:
        """Every lock (of one organisation, or of all), for a sweep."""
        query = select(Lock.id).order_by(*_LONGEST_UNVISITED_FIRST)
        if organisation_id is not None:
            query = query.where(Lock.organisation_id == organisation_id)
        return list(self._session.scalars(query))

    def pending_lock_ids(self, now: datetime) -> list[str]:
        """Locks whose grants changed since their last pass, or that are due by ``now``.

        Longest unvisited first: when a back-end allows only so many calls before it asks
        for a pause, the locks skipped last time go first, so none starves behind the others.
        """
        query = select(Lock.id).where(
            or_(Lock.sync_requests > Lock.synced_requests, Lock.next_sync_at <= now)
        )
        return list(self._session.scalars(query.order_by(*_LONGEST_UNVISITED_FIRST)))

    def next_due(self) -> datetime | None:
        """The earliest instant any lock is due again."""
        due: datetime | None = self._session.scalar(select(func.min(Lock.next_sync_at)))
        return due

    def _codes_of(self, lock_ids: list[str], now: datetime) -> dict[str, list[Any]]:
        """Lock codes whose grant is live, or whose state still says something to settle.

        Plain columns, not ORM objects: a sweep reads hundreds of thousands of these.
        """
        live = and_(Grant.revoked_at.is_(None), Grant.ends_at > now)
        unsettled = or_(
            LockCode.desired != ABSENT,
            LockCode.actual != ABSENT,
            LockCode.wait_reason.is_not(None),
            LockCode.last_error.is_not(None),
            LockCode.updated_at.is_(None),
        )
        query = (
            select(*_CODE_COLUMNS)
            .join(Grant, Grant.id == LockCode.grant_id)
            .outerjoin(Property, Property.id == Grant.property_id)
            .where(LockCode.lock_id.in_(lock_ids), or_(live, unsettled))
        )
        found: dict[str, list[Any]] = defaultdict(list)
        for row in self._session.execute(query):
            found[row.lock_id].append(row)
        return found

    def _default_leads(self, lock_ids: list[str]) -> dict[str, LeadTimes]:
        """For grants of chosen locks: the longest lead times among the lock's properties."""
        query = (
            select(
                property_locks.c.lock_id,
                Property.native_lead_minutes,
                Property.unscheduled_lead_minutes,
            )
            .join(Property, Property.id == property_locks.c.property_id)
            .where(property_locks.c.lock_id.in_(lock_ids))
        )
        found: dict[str, list[LeadTimes]] = defaultdict(list)
        for lock_id, native, unscheduled in self._session.execute(query):
            found[lock_id].append(lead_times(native, unscheduled))
        return {lock_id: _longest(leads) for lock_id, leads in found.items()}


_LONGEST_UNVISITED_FIRST = (nulls_first(Lock.synced_at.asc()), Lock.id)

_CODE_COLUMNS = (
    LockCode.lock_id,
    LockCode.grant_id,
    LockCode.desired,
    LockCode.wait_reason,
    LockCode.actual,
    LockCode.provider_code_id,
    LockCode.slot,
    LockCode.confirmed_version,
    LockCode.attempted_version,
    LockCode.attempts,
    LockCode.last_error,
    LockCode.next_attempt_at,
    LockCode.accepted_version,
    LockCode.updated_at,
    LockCode.written_code_token,
    Grant.code_token,
    Grant.starts_at,
    Grant.ends_at,
    Grant.revoked_at,
    Grant.version,
    Grant.kind,
    Grant.reservation_id,
    LockCode.offline_code_token.is_not(None).label("has_offline_code"),
    Property.native_lead_minutes,
    Property.unscheduled_lead_minutes,
)


_GRANT_STATE_COLUMNS = (
    LockCode.grant_id,
    LockCode.lock_id,
    LockCode.desired,
    LockCode.wait_reason,
    LockCode.actual,
    LockCode.provider_code_id,
    LockCode.confirmed_version,
    LockCode.attempted_version,
    LockCode.attempts,
    LockCode.last_error,
    LockCode.next_attempt_at,
    LockCode.accepted_version,
    Lock.name,
    Lock.capabilities,
    Lock.sync_error,
    Grant.organisation_id,
    Grant.holder,
    Grant.version,
    Grant.starts_at,
    Grant.ends_at,
    Grant.revoked_at,
    Grant.codes_set_version,
    Grant.kind,
    Grant.reservation_id,
    LockCode.offline_code_token.is_not(None).label("has_offline_code"),
    Lock.offline_key_group_id,
)


@lru_cache(maxsize=256)
def lead_times(native_minutes: int, unscheduled_minutes: int) -> LeadTimes:
    """A property's lead times from its columns; equal ones are one shared value."""
    return LeadTimes(timedelta(minutes=native_minutes), timedelta(minutes=unscheduled_minutes))


_CHUNK = 5_000
"""Ids per IN list: SQLite allows 32,766 parameters in one statement."""


def chunked(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    """``ids`` in slices small enough for one statement."""
    return (ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK))


def code_row(lock_id: str, grant_id: str, state: LockCodeState, now: datetime) -> dict[str, Any]:
    """The parameters ``LockSyncRepository.save`` writes for one lock code."""
    return {
        "grant_key": grant_id,
        "lock_key": lock_id,
        "desired": state.desired,
        "wait_reason": state.wait_reason,
        "actual": state.actual,
        "provider_code_id": state.provider_code_id,
        "confirmed_version": state.confirmed_version,
        "attempted_version": state.attempted_version,
        "attempts": state.attempts,
        "last_error": state.last_error,
        "next_attempt_at": state.next_attempt_at,
        "accepted_version": state.accepted_version,
        "updated_at": now,
    }


def _lock_row(lock_id: str, state: LockSyncState) -> dict[str, Any]:
    return {
        "lock_key": lock_id,
        "synced_requests": state.synced_requests,
        "synced_at": state.synced_at,
        "next_sync_at": state.next_sync_at,
        "sync_error": state.sync_error,
        "sync_attempts": state.sync_attempts,
        "sync_retry_at": state.sync_retry_at,
        "unmanaged_codes": list(state.unmanaged_codes),
        "inventoried_at": state.inventoried_at,
    }


def _lock_record(row: Any, codes: list[Any], leads: LeadTimes | None) -> LockRecord:
    fallback = leads or DEFAULT_LEAD_TIMES
    capabilities = capabilities_from_json(row.capabilities)
    return LockRecord(
        id=row.id,
        organisation_id=row.organisation_id,
        name=row.name,
        provider=row.provider,
        external_id=row.external_id,
        capabilities=capabilities,
        sync_requests=row.sync_requests,
        state=LockSyncState(
            synced_requests=row.synced_requests,
            synced_at=row.synced_at,
            next_sync_at=row.next_sync_at,
            sync_error=row.sync_error,
            sync_attempts=row.sync_attempts,
            sync_retry_at=row.sync_retry_at,
            unmanaged_codes=tuple(row.unmanaged_codes or ()),
            inventoried_at=row.inventoried_at,
        ),
        codes=tuple(_code_record(code, fallback) for code in codes),
        account_id=row.account_id,
        health_checked_at=row.health_checked_at,
        slots=owned_slots(capabilities.max_codes, chosen_slots(row.slot_first, row.slot_last)),
    )


def chosen_slots(first: int | None, last: int | None) -> SlotRange | None:
    """The range an operator set on a lock, or None for the default."""
    if first is None or last is None:
        return None
    return SlotRange(first, last)


def _code_record(row: Any, fallback: LeadTimes) -> LockCodeRecord:
    """Grants of chosen locks follow no property: they take the lock's own lead times."""
    has_property = row.native_lead_minutes is not None
    return LockCodeRecord(
        grant_id=row.grant_id,
        code_token=row.code_token,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        revoked_at=row.revoked_at,
        version=row.version,
        leads=(
            lead_times(row.native_lead_minutes, row.unscheduled_lead_minutes)
            if has_property
            else fallback
        ),
        state=_state_of(row),
        visited=row.updated_at is not None,
        spare=is_spare(row.kind, row.reservation_id),
        has_offline_code=bool(row.has_offline_code),
        slot=row.slot,
        written_code_token=row.written_code_token,
    )


def _why_retired(row: Any, now: datetime) -> str | None:
    """Why a pulled backup must leave its lock; None while its grant still holds it."""
    if row.grant_row is None:
        return "the grant was deleted"
    if row.revoked_at is not None:
        return "the grant was revoked"
    if row.on_lock is None:
        return "the lock left the grant"
    if row.offline_code_ref != row.code_ref:
        return "the stay moved: the backup no longer fits it"
    if row.ends_at <= now:
        return "the stay is over"
    return None


def is_spare(kind: str, reservation_id: str | None) -> bool:
    """An unreleased backup code: it may fill free room on a lock, and nobody waits for it."""
    return kind == GrantKind.BACKUP and reservation_id is None


def _state_of(code: Any) -> LockCodeState:
    return LockCodeState(
        desired=code.desired,
        wait_reason=code.wait_reason,
        actual=code.actual,
        provider_code_id=code.provider_code_id,
        confirmed_version=code.confirmed_version,
        attempted_version=code.attempted_version,
        attempts=code.attempts,
        last_error=code.last_error,
        next_attempt_at=code.next_attempt_at,
        accepted_version=code.accepted_version,
    )


def _longest(leads: Iterable[LeadTimes]) -> LeadTimes:
    every = list(leads)
    return LeadTimes(max(lead.native for lead in every), max(lead.unscheduled for lead in every))


def _releasable_slots(lock_codes: Any, lock_ids: Collection[str], now: datetime) -> list[Any]:
    """Held slots on the locks whose grant is over (by its key: not every grant that ever
    ended) and whose code is recorded off the lock."""
    grants = Base.metadata.tables["grants"]
    over = (
        select(grants.c.id)
        .where(
            grants.c.id == lock_codes.c.grant_id,
            or_(grants.c.revoked_at.is_not(None), grants.c.ends_at <= now),
        )
        .exists()
    )
    return [
        lock_codes.c.lock_id.in_(lock_ids),
        lock_codes.c.slot.is_not(None),
        lock_codes.c.slot_released_at.is_(None),
        lock_codes.c.actual == ABSENT,
        over,
    ]
