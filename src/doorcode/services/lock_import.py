"""Importing an account's devices as locks, with the capabilities and health the vendor reports.

As a PMS's "Pull devices" does: one call lists the account's devices; new ones become locks
(in no property yet), known ones take the vendor's current capabilities and health, and a
lock whose device is gone at the vendor raises an alert (``LockDeviceGone``) instead of failing
every sync. Importing again changes nothing that did not change: no row, no event.

The vendor call happens outside any transaction; the rows are written in one afterwards.
A refused credential stops the account (``refuse_account``) and the import says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from doorcode.domain.clock import Clock
from doorcode.domain.slots import SlotRange
from doorcode.locks.base import Device, ProviderAccount
from doorcode.locks.errors import ProviderAuthFailed, ProviderError
from doorcode.locks.health import LockHealth
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import BackEndFailed, InvalidRequest, NotFound
from doorcode.services.lock_slots import slots_of
from doorcode.services.provider_accounts import refuse_account, settings_of
from doorcode.store.capability_codec import capabilities_to_json
from doorcode.store.models import Lock
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["DEVICE_GONE", "ImportReport", "import_locks", "store_health"]

DEVICE_GONE = "LockDeviceGone"
_MAX_NAME = 200


@dataclass(slots=True)
class ImportReport:
    """What an import did, by lock name."""

    account: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)
    """Devices another organisation has already: never shared."""


async def import_locks(
    uow_factory: Callable[[], UnitOfWork],
    providers: ProviderRegistry,
    clock: Clock,
    caller: Caller,
    reference: str,
) -> ImportReport:
    """Pull the account's devices and record them as locks."""
    caller.require_writer()
    account = _account(uow_factory(), caller, reference)
    try:
        async with providers.session(clock) as session:
            devices = await session.for_account(account).list_devices()
    except ProviderAuthFailed as err:
        with uow_factory() as uow:
            refuse_account(uow, account.account_id, str(err))
            uow.commit()
        raise BackEndFailed(f"{account.kind} refused the account's credentials: {err}") from err
    except ProviderError as err:
        raise BackEndFailed(f"{account.kind} could not list the devices: {err}") from err
    return _record(uow_factory(), caller, account, devices)


def store_health(lock: Lock, health: LockHealth) -> bool:
    """Keep the health a back-end reported on the lock row; True if anything changed."""
    before = (lock.health_online, lock.health_battery, lock.health_contact_at)
    after = (health.online, health.battery_percent, health.last_contact_at)
    if before == after:
        return False
    lock.health_online, lock.health_battery, lock.health_contact_at = after
    return True


def _account(uow: UnitOfWork, caller: Caller, reference: str) -> ProviderAccount:
    with uow:
        row = uow.provider_accounts.find(caller.organisation_id, reference)
        if row is None:
            raise NotFound("provider account", reference)
        if row.kind == "virtual":
            raise InvalidRequest(
                "virtual devices come from the locks you add (`doorcode lock add`); "
                "there is nothing to import"
            )
        if row.refused_at is not None:
            raise InvalidRequest(
                f"{row.kind} refused the credentials of {row.label!r}; reconnect it first"
            )
        return settings_of(uow, row)


def _record(
    uow: UnitOfWork, caller: Caller, account: ProviderAccount, devices: list[Device]
) -> ImportReport:
    report = ImportReport(account.label)
    with uow:
        known = {
            lock.external_id: lock for lock in uow.provider_accounts.locks_of(account.account_id)
        }
        for device in devices:
            lock = known.pop(device.external_id, None)
            if lock is None:
                _add(uow, caller, account, device, report)
            else:
                _refresh(uow, caller, lock, device, report)
        for lock in known.values():
            report.gone.append(lock.name)
            raise_alert(
                uow,
                lock.organisation_id,
                DEVICE_GONE,
                ("lock", lock.id),
                f"{account.kind} no longer lists the device of {lock.name!r}; "
                "remove the lock or reconnect the device",
            )
        row = uow.provider_accounts.get(caller.organisation_id, account.account_id)
        if row is not None:
            row.imported_at = uow.now
        uow.commit()
    return report


def _add(
    uow: UnitOfWork, caller: Caller, account: ProviderAccount, device: Device, report: ImportReport
) -> None:
    existing = uow.locks.by_provider_id(account.kind, device.external_id)
    if existing is not None and _attachable(existing, caller):
        _attach(uow, caller, existing, account, device, report)
        return
    if existing is not None:
        report.taken.append(device.name)
        return
    lock = Lock(
        organisation_id=caller.organisation_id,
        name=device.name[:_MAX_NAME],
        provider=account.kind,
        account_id=account.account_id,
        external_id=device.external_id,
        capabilities=capabilities_to_json(device.capabilities),
        created_at=uow.now,
        properties=[],
    )
    store_health(lock, device.health)
    lock.health_checked_at = uow.now
    uow.locks.add(lock)
    uow.flush()
    record_event(
        uow,
        caller,
        ("lock", lock.id),
        "LockImported",
        lock.name,
        after={
            "provider": lock.provider,
            "external_id": lock.external_id,
            "account": account.label,
        },
    )
    report.added.append(lock.name)


def _attachable(lock: Lock, caller: Caller) -> bool:
    """A lock of the caller's recorded by hand before it had an account."""
    return lock.organisation_id == caller.organisation_id and lock.account_id is None


def _attach(
    uow: UnitOfWork,
    caller: Caller,
    lock: Lock,
    account: ProviderAccount,
    device: Device,
    report: ImportReport,
) -> None:
    """The account now serves a lock that had none: its sync can start."""
    lock.account_id = account.account_id
    uow.touch_locks({lock.id})
    record_event(
        uow,
        caller,
        ("lock", lock.id),
        "LockAttached",
        f"now served by the {account.kind} account {account.label!r}",
        after={"account": account.label},
    )
    _refresh(uow, caller, lock, device, report)


def _refresh(
    uow: UnitOfWork, caller: Caller, lock: Lock, device: Device, report: ImportReport
) -> None:
    """The vendor's current facts on a known lock; its name stays the operator's."""
    clear_alert(uow, lock.organisation_id, DEVICE_GONE, ("lock", lock.id))
    store_health(lock, device.health)
    capabilities = capabilities_to_json(device.capabilities)
    if capabilities == lock.capabilities:
        report.unchanged.append(lock.name)
        return
    before = {"capabilities": lock.capabilities}
    owned_before = slots_of(lock)
    lock.capabilities = capabilities
    _keep_held_slots(uow, caller, lock, owned_before)
    uow.touch_locks({lock.id})
    record_event(
        uow,
        caller,
        ("lock", lock.id),
        "LockChanged",
        "capabilities reported by the back-end",
        before=before,
        after={"capabilities": capabilities},
    )
    report.changed.append(lock.name)


def _keep_held_slots(
    uow: UnitOfWork, caller: Caller, lock: Lock, owned_before: SlotRange | None
) -> None:
    """A default slot range that a new slot count moves keeps every slot a grant holds.

    The default range follows the lock's slot count (all of a small lock, all but the first
    few of a big one), so a re-import that changes the count could leave a guest's slot
    outside it: the guest's code would then count as the owner's, stay after check-out, and
    the guest get a second slot. Where that would happen, the range in use is kept, as if
    the owner had chosen it; ``doorcode lock slots`` changes it once those stays are over.
    """
    if lock.slot_first is not None or owned_before is None:
        return
    owned = slots_of(lock)
    held = uow.lock_sync.held_slots(lock.id, uow.now)
    if owned is not None and all(slot in owned for slot in held):
        return
    lock.slot_first, lock.slot_last = owned_before.first, owned_before.last
    record_event(
        uow,
        caller,
        ("lock", lock.id),
        "LockSlotsChanged",
        "its slot count changed; guests hold slots the new default range leaves out",
        before={"slots": "default"},
        after={"slots": str(owned_before)},
    )
