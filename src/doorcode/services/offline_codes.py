"""Offline codes in the service: key groups, issuing, diagnosing and blocking codes.

A key group's key is generated here and leaves the service once (``export_key_group``) to be
loaded into the physical locks. Offline grants are ordinary grants whose code is an offline
code of the group. Revoking one cannot reach a lock that has no network, so it puts the code
on the group's block list, and a person types the block sequence at the keypad. Rotating the
key kills every outstanding code at once (see docs/offline-codes.md, "Key rotation").
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from doorcode.domain.code_allocation import TakenCodes, allocate_code
from doorcode.domain.code_policy import Alphabet, CodeConstraints, CodePolicy
from doorcode.domain.grants import GrantKind
from doorcode.domain.offline import (
    KeyGroup,
    KeypadSequence,
    OfflineCodec,
    OfflineWindowUnsupported,
    block_sequence,
)
from doorcode.domain.windows import TimeWindow
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import VirtualLockProvider
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.services.grants import SUBJECT as GRANT_SUBJECT
from doorcode.services.grants import revoke
from doorcode.services.offline_blocks import SUBJECT, add_block
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import Grant, Lock, LockCode, OfflineBlock, OfflineKeyGroup
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "CodeBlocked",
    "CodeDiagnosis",
    "IssuedGrant",
    "KeyExport",
    "block_offline_code",
    "check_offline_code",
    "create_key_group",
    "export_key_group",
    "issue_offline_grant",
    "key_group_zone",
    "list_key_groups",
    "mark_block_entered",
    "pending_blocks",
    "provision_virtual_locks",
    "rotate_key_group",
    "zone_of_key_group",
]

PROGRAMMING_CODE_DIGITS = 8


@dataclass(frozen=True, slots=True, repr=False)
class KeyExport:
    """What a technician loads into the group's locks; shown once."""

    group_id: str
    group_uuid: str
    key_hex: str
    programming_code: str
    epoch: datetime
    digits: int
    key_version: int

    def __repr__(self) -> str:
        return f"KeyExport(group_id={self.group_id!r}, key=***, programming_code=***)"


@dataclass(frozen=True, slots=True, repr=False)
class IssuedGrant:
    """An offline grant, its code, and the window the code really opens."""

    grant: Grant
    code: str
    requested: TimeWindow
    issued: TimeWindow

    def __repr__(self) -> str:
        return f"IssuedGrant(grant={self.grant.id!r}, code=***, issued={self.issued!r})"


@dataclass(frozen=True, slots=True)
class CodeBlocked:
    """A code put on the block list: the block to mark done, and what to type (secret)."""

    block_id: str
    sequence: KeypadSequence


@dataclass(frozen=True, slots=True)
class CodeDiagnosis:
    """What an operator learns about a code a guest typed."""

    window: TimeWindow | None
    opens_at: bool
    blocked: bool
    grant_id: str | None


def create_key_group(
    uow: UnitOfWork, caller: Caller, name: str, lock_refs: tuple[str, ...], digits: int = 10
) -> OfflineKeyGroup:
    """A new key group over locks that check offline codes, with a fresh 256-bit key."""
    caller.require_writer()
    with uow:
        if uow.offline.find(caller.organisation_id, name) is not None:
            raise AlreadyExists(f"a key group named {name!r} exists already")
        locks = [_offline_capable_lock(uow, caller, reference) for reference in lock_refs]
        key_group = KeyGroup.generate(uuid.uuid4(), _default_epoch(uow.now, locks), digits)
        group = OfflineKeyGroup(
            organisation_id=caller.organisation_id,
            name=name,
            group_uuid=str(key_group.group_id),
            key_version=1,
            created_at=uow.now,
            locks=locks,
        )
        uow.offline.store_key(group, key_group)
        uow.offline.store_programming_code(group, _new_programming_code())
        uow.offline.add(group)
        uow.flush()
        after = {"locks": [lock.id for lock in locks], "digits": digits}
        record_event(uow, caller, (SUBJECT, group.id), "KeyGroupCreated", name, after=after)
        uow.commit()
        return group


def list_key_groups(uow: UnitOfWork, caller: Caller) -> list[OfflineKeyGroup]:
    """The organisation's key groups, with their locks and the properties those serve."""
    with uow:
        groups = uow.offline.all(caller.organisation_id)
        for group in groups:
            for lock in group.locks:
                _ = lock.properties  # read on the group's clock after the session closes
        return groups


def export_key_group(uow: UnitOfWork, caller: Caller, reference: str) -> KeyExport:
    """The key and programming code, once: a second export needs a rotation first."""
    caller.require_owner()
    with uow:
        group = _find(uow, caller, reference)
        if group.key_exported_at is not None:
            raise InvalidRequest(
                "this key was exported already; rotate the key group to export a new one"
            )
        group.key_exported_at = uow.now
        key_group = uow.offline.key_group_of(group)
        export = KeyExport(
            group.id,
            group.group_uuid,
            key_group.key.hex(),
            uow.offline.programming_code_of(group),
            group.epoch,
            group.digits,
            group.key_version,
        )
        record_event(uow, caller, (SUBJECT, group.id), "KeyGroupExported", "key handed out")
        uow.commit()
        return export


def provision_virtual_locks(
    uow: UnitOfWork, caller: Caller, providers: ProviderRegistry, reference: str
) -> list[str]:
    """Load the group's current key into its virtual locks; returns the names of those loaded.

    The demo's stand-in for a technician at each door; real locks are provisioned by hand
    with what ``export_key_group`` shows. The key goes from this installation's store to its
    own simulated locks and is shown to nobody, so this neither needs nor spends the key's
    one export: ``export`` then ``provision`` (the README's order) both work.
    """
    caller.require_owner()
    cloud = providers.virtual_cloud
    with uow:
        group = _find(uow, caller, reference)
        virtual = [lock for lock in group.locks if lock.provider == VirtualLockProvider.kind]
        if cloud is None or not virtual:
            raise InvalidRequest("this key group has no virtual locks to provision")
        key_group = uow.offline.key_group_of(group)
        programming_code = uow.offline.programming_code_of(group)
        for lock in virtual:
            cloud.install(lock.external_id, lock.name, capabilities_from_json(lock.capabilities))
            cloud.load_offline_key(lock.external_id, key_group, programming_code)
        after = {"locks": [lock.id for lock in virtual], "key_version": group.key_version}
        record_event(
            uow, caller, (SUBJECT, group.id), "KeyGroupProvisioned", "virtual locks", after=after
        )
        uow.commit()
        return [lock.name for lock in virtual]


def rotate_key_group(uow: UnitOfWork, caller: Caller, reference: str) -> OfflineKeyGroup:
    """A new key: every outstanding code of the group stops working once the locks have it."""
    caller.require_owner()
    with uow:
        group = _find(uow, caller, reference)
        # Revoked under the old key: their blocks belong to the old key's list, which the
        # new key empties.
        for grant in uow.offline.outstanding_grants(group.id):
            revoke(uow, caller, grant, "the key group's key was rotated")
        rotated = uow.offline.key_group_of(group).rotated()
        uow.offline.store_key(group, rotated)
        uow.offline.store_programming_code(group, _new_programming_code())
        group.key_version += 1
        group.key_exported_at = None
        group.rotated_at = uow.now
        record_event(uow, caller, (SUBJECT, group.id), "KeyGroupRotated", "new key")
        uow.commit()
        return group


def issue_offline_grant(
    uow: UnitOfWork,
    caller: Caller,
    reference: str,
    requested: TimeWindow,
    holder: str,
    kind: GrantKind = GrantKind.MANUAL,
) -> IssuedGrant:
    """A grant whose code opens the group's locks for a window covering ``requested``."""
    caller.require_writer()
    with uow:
        group = _find(uow, caller, reference)
        if not group.locks:
            raise InvalidRequest("this key group has no locks")
        _check_after_epoch(group, requested)
        uow.touch_locks({lock.id for lock in group.locks})
        issued = OfflineCodec(uow.offline.key_group_of(group)).issue(
            requested, avoiding=uow.offline.taken_codes(group)
        )
        grant = Grant(
            organisation_id=caller.organisation_id,
            kind=kind.value,
            holder=holder,
            starts_at=issued.issued.starts_at,
            ends_at=issued.issued.ends_at,
            version=1,
            created_at=uow.now,
            updated_at=uow.now,
            offline_key_group_id=group.id,
            lock_codes=[LockCode(lock_id=lock.id) for lock in group.locks],
        )
        uow.grants.set_code(grant, issued.code)
        uow.grants.add(grant)
        uow.flush()
        windows = {
            "requested": [requested.starts_at.isoformat(), requested.ends_at.isoformat()],
            "issued": [issued.issued.starts_at.isoformat(), issued.issued.ends_at.isoformat()],
            "key_group_id": group.id,
        }
        record_event(
            uow, caller, (GRANT_SUBJECT, grant.id), "GrantCreated", "offline code", after=windows
        )
        uow.commit()
        return IssuedGrant(grant, issued.code, requested, issued.issued)


def check_offline_code(
    uow: UnitOfWork, caller: Caller, reference: str, code: str, at: datetime
) -> CodeDiagnosis:
    """Which window a code carries, whether it opens at ``at``, and whose it is."""
    caller.require_writer()
    with uow:
        group = _find(uow, caller, reference)
        window = OfflineCodec(uow.offline.key_group_of(group)).read(code)
        blocked = code in uow.offline.blocked_codes(group)
        owner = _grant_holding(uow, group, code)
        opens = window is not None and window.contains(at) and not blocked
        return CodeDiagnosis(window, opens, blocked, owner.id if owner else None)


def block_offline_code(uow: UnitOfWork, caller: Caller, reference: str, code: str) -> CodeBlocked:
    """Put a code on the block list (revoking its grant) and say what to type at the lock.

    Owners only: the sequence starts with the locks' programming code.
    """
    caller.require_owner()
    with uow:
        group = _find(uow, caller, reference)
        window = OfflineCodec(uow.offline.key_group_of(group)).read(code)
        if window is None:
            raise InvalidRequest("that is not an offline code of this key group")
        owner = _grant_holding(uow, group, code)
        if owner is not None:
            revoke(uow, caller, owner, "its offline code was blocked")
        elif code not in uow.offline.blocked_codes(group):
            add_block(uow, caller, group, code, window, grant_id=None)
        sequence = block_sequence(uow.offline.programming_code_of(group), code)
        uow.flush()
        block = next(
            b
            for b in reversed(uow.offline.blocks(group.id, group.key_version))
            if uow.offline.code_of_block(b) == code
        )
        uow.commit()
        return CodeBlocked(block.id, sequence)


def mark_block_entered(uow: UnitOfWork, caller: Caller, reference: str, block_id: str) -> None:
    """Record that a block sequence was typed at every lock of the group, so it stops showing."""
    caller.require_owner()
    with uow:
        group = _find(uow, caller, reference)
        block = next(
            (b for b in uow.offline.blocks(group.id, group.key_version) if b.id == block_id), None
        )
        if block is None:
            raise NotFound("block", block_id)
        if block.entered_at is not None:
            raise InvalidRequest(f"block {block_id} was marked as typed already")
        block.entered_at = uow.now
        record_event(
            uow,
            caller,
            (SUBJECT, group.id),
            "OfflineBlockEntered",
            "block sequence typed at the locks",
            after={"block_id": block.id},
        )
        uow.commit()


def pending_blocks(
    uow: UnitOfWork, caller: Caller, reference: str
) -> list[tuple[OfflineBlock, KeypadSequence]]:
    """Blocks under the current key, with the sequences to type (secret: show with care)."""
    caller.require_owner()
    with uow:
        group = _find(uow, caller, reference)
        programming_code = uow.offline.programming_code_of(group)
        return [
            (block, block_sequence(programming_code, uow.offline.code_of_block(block)))
            for block in uow.offline.blocks(group.id, group.key_version)
            if block.window_ends_at > uow.now and block.entered_at is None
        ]


def _check_after_epoch(group: OfflineKeyGroup, requested: TimeWindow) -> None:
    """Name the epoch: an operator cannot guess it (noon the day before the group was made)."""
    if requested.starts_at < group.epoch:
        epoch = group.epoch.astimezone(zone_of_key_group(group))
        raise OfflineWindowUnsupported(
            f"offline codes of key group {group.name!r} cannot start before the group's epoch, "
            f"{epoch:%Y-%m-%d %H:%M %Z} ({group.epoch:%Y-%m-%d %H:%M} UTC): ask for a later start"
        )


def zone_of_key_group(group: OfflineKeyGroup) -> ZoneInfo | timezone:
    """The clock of the group's first lock's property (UTC when it has none)."""
    for lock in group.locks:
        for place in lock.properties:
            return ZoneInfo(place.time_zone)
    return UTC


def key_group_zone(uow: UnitOfWork, caller: Caller, reference: str) -> ZoneInfo | timezone:
    """The clock the group's codes are read on: its first lock's property's (else UTC)."""
    with uow:
        return zone_of_key_group(_find(uow, caller, reference))


def _grant_holding(uow: UnitOfWork, group: OfflineKeyGroup, code: str) -> Grant | None:
    return next(
        (g for g in uow.offline.outstanding_grants(group.id) if uow.grants.code_of(g) == code),
        None,
    )


def _find(uow: UnitOfWork, caller: Caller, reference: str) -> OfflineKeyGroup:
    group = uow.offline.find(caller.organisation_id, reference)
    if group is None:
        raise NotFound("key group", reference)
    return group


def _offline_capable_lock(uow: UnitOfWork, caller: Caller, reference: str) -> Lock:
    lock = uow.locks.find(caller.organisation_id, reference)
    if lock is None:
        raise NotFound("lock", reference)
    if not capabilities_from_json(lock.capabilities).offline_codes:
        raise InvalidRequest(f"lock {lock.name!r} does not check offline codes")
    if lock.offline_key_group_id is not None:
        raise InvalidRequest(f"lock {lock.name!r} already belongs to a key group")
    return lock


def _default_epoch(now: datetime, locks: list[Lock]) -> datetime:
    """Noon yesterday at the first lock's property, so day-resolution windows turn at midday.

    Check-out (late morning) and check-in (afternoon) then fall on either side of a day
    boundary instead of straddling two, so long stays rounded to whole days grow least.
    """
    zone = ZoneInfo(locks[0].properties[0].time_zone) if locks and locks[0].properties else UTC
    yesterday = now.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(yesterday, time(12), zone).astimezone(UTC)


def _new_programming_code() -> str:
    """A random programming code that avoids the patterns people guess first."""
    rules = CodeConstraints(no_all_same=True, no_sequence=True)
    policy = CodePolicy(PROGRAMMING_CODE_DIGITS, Alphabet.NUMERIC, rules)
    return allocate_code(policy, TakenCodes((), prefix_free=False), secrets.SystemRandom())
