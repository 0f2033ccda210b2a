"""Removing a lock: its codes leave the device first, then doorcode forgets the lock.

Deleting the row at once would strand every code of ours on the device: nothing would ever
visit it again. So removal goes the reconciler's way. The lock first leaves every property,
key group and grant (a grant keeps its other locks; a property's grants are re-derived as
when a lock is unlinked), which makes none of our codes wanted on it. A forced lock pass then
deletes them from the device, and only when that pass leaves none of ours is the row
deleted. A lock that cannot be reached keeps its row, out of every property and grant, and the
reason is reported: `lock remove` again when it answers (the periodic sweep also clears its
codes meanwhile), or ``forget_anyway`` drops it and leaves whatever is on the device to the
owner. Locks that are never online hold nothing doorcode could delete (offline codes carry
their own window), so they are forgotten at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from doorcode.runtime import Runtime
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound, ServiceError
from doorcode.services.locks import SUBJECT
from doorcode.services.reservations import follow_property
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.repositories import GrantFilter
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler

__all__ = ["LockRemoval", "LockUnreachable", "remove_lock", "remove_lock_async"]


class LockUnreachable(ServiceError):
    """The lock's codes could not be deleted from the device, so the lock was kept."""


@dataclass(frozen=True, slots=True)
class LockRemoval:
    """What removing a lock did."""

    lock_id: str
    lock_name: str
    codes_deleted: int
    grants_changed: tuple[str, ...]
    forgotten_unreachable: bool = False


def remove_lock(
    runtime: Runtime, caller: Caller, reference: str, *, forget_anyway: bool = False
) -> LockRemoval:
    """Detach the lock, clear its codes from the device, then forget it (synchronous callers)."""
    return asyncio.run(remove_lock_async(runtime, caller, reference, forget_anyway=forget_anyway))


async def remove_lock_async(
    runtime: Runtime, caller: Caller, reference: str, *, forget_anyway: bool = False
) -> LockRemoval:
    """Detach the lock, clear its codes from the device, then forget it."""
    lock_id, name, online, changed = detach_lock(runtime.uow(), caller, reference)
    deleted = 0
    if online:
        install_virtual_locks(runtime)
        [outcome] = await Reconciler.from_runtime(runtime).reconcile([lock_id], force=True)
        deleted = outcome.deleted
        problem = (
            outcome.error
            or outcome.skipped
            or (f"{outcome.failed} failed" if outcome.failed else None)
        )
        if problem and not forget_anyway:
            raise LockUnreachable(
                f"lock {name!r} is out of every property and grant, but its codes could not "
                f"be removed from the device ({problem}); it is kept until they are: run "
                "`lock remove` again when it answers, or forget it anyway and clear the device "
                "by hand"
            )
        forgotten_unreachable = bool(problem)
    else:
        forgotten_unreachable = False
    forget_lock(runtime.uow(), caller, lock_id, forget_anyway=forget_anyway)
    return LockRemoval(lock_id, name, deleted, changed, forgotten_unreachable)


def detach_lock(
    uow: UnitOfWork, caller: Caller, reference: str
) -> tuple[str, str, bool, tuple[str, ...]]:
    """Take the lock out of every property, key group and grant; no code of ours is wanted on it."""
    caller.require_writer()
    with uow:
        lock = uow.locks.find(caller.organisation_id, reference)
        if lock is None:
            raise NotFound("lock", reference)
        which = GrantFilter(lock_id=lock.id, limit=1_000_000)
        # Every grant on the lock leaves it, a property's own (re-derived below) included, and
        # past ones too (a code of theirs may still be on it); the operator is told the grants
        # still in force, not years of history.
        live = replace(which, include_revoked=False, ending_after=uow.now)
        changed = [grant.id for grant in uow.grants.search(caller.organisation_id, live)]
        for prop in list(lock.properties):
            prop.locks.remove(lock)
            before = {"lock_id": lock.id}
            record_event(
                uow, caller, ("property", prop.id), "LockUnlinked", lock.name, before=before
            )
            follow_property(uow, caller, prop)
        for grant in uow.grants.search(caller.organisation_id, which):
            others = {code.lock_id for code in grant.lock_codes if code.lock_id != lock.id}
            uow.grants.set_locks(grant, others)
        lock.offline_key_group_id = None
        uow.touch_locks({lock.id})
        record_event(
            uow,
            caller,
            (SUBJECT, lock.id),
            "LockDetached",
            "being removed: its codes leave the device",
            after={"grants": changed},
        )
        online = capabilities_from_json(lock.capabilities).online
        uow.commit()
        return lock.id, lock.name, online, tuple(changed)


def forget_lock(
    uow: UnitOfWork, caller: Caller, lock_id: str, *, forget_anyway: bool = False
) -> None:
    """Delete the detached lock's row; its audit trail stays.

    Not while a backup-pool code doorcode pulled is still on the device (its deletion failed,
    or no pass has deleted it yet): the row's removal would drop the only record of it, and
    the code would open the door for good. ``forget_anyway`` leaves it to the owner.
    """
    with uow:
        lock = uow.locks.get(caller.organisation_id, lock_id)
        if lock is None:
            raise NotFound("lock", lock_id)
        left = uow.offline.pending_backups(lock.id)
        if left and not forget_anyway:
            raise LockUnreachable(
                f"lock {lock.name!r} is out of every property and grant, but {left} backup "
                "code(s) doorcode pulled for its guests are still on the device; it is kept "
                "until they are deleted: run `lock remove` again when it answers, or forget it "
                "anyway and clear the device by hand"
            )
        record_event(uow, caller, (SUBJECT, lock.id), "LockRemoved", lock.name)
        uow.locks.remove(lock)
        uow.commit()
