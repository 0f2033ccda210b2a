"""The slots doorcode may write on a slot-addressed lock (Z-Wave, Zigbee), as the owner sets them.

Changing the range never moves a guest: a range that leaves out a slot a grant still holds is
refused, with the slots named, until those stays are over.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorcode.domain.slots import SlotRange, owned_slots
from doorcode.locks.base import Addressing
from doorcode.locks.errors import ProviderNotConfigured
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.lock_sync import chosen_slots
from doorcode.store.models import Lock
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["LockSlots", "lock_slots", "set_lock_slots", "slots_of"]


@dataclass(frozen=True, slots=True)
class LockSlots:
    """Where a lock's slots stand: the range doorcode writes, whose choice it is, who holds what."""

    lock: Lock
    owned: SlotRange | None
    chosen: bool
    held: dict[int, str]
    """Slot -> grant id, for every slot a grant still holds."""


def slots_of(lock: Lock) -> SlotRange | None:
    """The range doorcode writes on ``lock``: the owner's choice or the default from its size."""
    max_codes = capabilities_from_json(lock.capabilities).max_codes
    return owned_slots(max_codes, chosen_slots(lock.slot_first, lock.slot_last))


def lock_slots(
    uow: UnitOfWork, caller: Caller, providers: ProviderRegistry, reference: str
) -> LockSlots:
    """The lock's range and the slots its grants hold (refused on a lock without slots)."""
    with uow:
        lock = _slot_lock(uow, caller, providers, reference)
        held = uow.lock_sync.held_slots(lock.id, uow.now)
        return LockSlots(lock, slots_of(lock), lock.slot_first is not None, held)


def set_lock_slots(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    reference: str,
    wanted: SlotRange | None,
) -> LockSlots:
    """Give doorcode the slots ``wanted`` (None: back to the default); the lock is looked at again.

    Refused (nothing changes) when the lock's back-end keeps codes by id rather than in slots,
    when the lock has fewer slots than the range names, or when a grant holds a slot outside it.
    """
    caller.require_writer()
    with uow:
        lock = _slot_lock(uow, caller, providers, reference)
        max_codes = capabilities_from_json(lock.capabilities).max_codes
        owned = owned_slots(max_codes, wanted)
        if wanted is not None and not wanted.fits(max_codes):
            raise InvalidRequest(f"{lock.name} has {max_codes} slots: {wanted} does not fit")
        held = uow.lock_sync.held_slots(lock.id, uow.now)
        outside = sorted(slot for slot in held if owned is None or slot not in owned)
        if outside:
            named = ", ".join(str(slot) for slot in outside)
            raise InvalidRequest(
                f"guests' codes are in slot {named} of {lock.name}, outside {owned or 'the range'}"
                ": keep those slots in the range until their stays are over"
            )
        before = {"slots": str(slots_of(lock) or "unknown")}
        lock.slot_first, lock.slot_last = (wanted.first, wanted.last) if wanted else (None, None)
        uow.touch_locks({lock.id})
        record_event(
            uow,
            caller,
            ("lock", lock.id),
            "LockSlotsChanged",
            lock.name,
            before=before,
            after={"slots": str(owned or "unknown")},
        )
        uow.commit()
        return LockSlots(lock, owned, wanted is not None, held)


def _slot_lock(
    uow: UnitOfWork, caller: Caller, providers: ProviderRegistry, reference: str
) -> Lock:
    """The lock, when its back-end writes codes into numbered slots.

    Elsewhere a range would be stored, shown as "set by you" and never used: the reconciler
    asks a back-end that keeps codes by id for no slot.
    """
    lock = uow.locks.find(caller.organisation_id, reference)
    if lock is None:
        raise NotFound("lock", reference)
    if not _writes_slots(providers, lock.provider):
        raise InvalidRequest(
            f"{lock.name} is a {lock.provider} lock: its back-end keeps codes by id, not in "
            "numbered slots (slots are for Z-Wave and Zigbee locks)"
        )
    return lock


def _writes_slots(providers: ProviderRegistry, kind: str) -> bool:
    try:
        return providers.backend(kind).abilities.addressing is Addressing.BY_SLOT
    except ProviderNotConfigured:
        return False
