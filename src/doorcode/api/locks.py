"""/locks: the devices, their capabilities, and where the codes on them stand."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.rendering import lock_body, lock_codes_body
from doorcode.api.schemas import (
    CapabilitiesBody,
    KeypadBody,
    LockBody,
    LockCodesBody,
    NewLockBody,
)
from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.slots import parse_slot_range
from doorcode.services import locks
from doorcode.services.keypad import enter_on_keypad
from doorcode.services.lock_removal import remove_lock
from doorcode.services.lock_slots import LockSlots, lock_slots, set_lock_slots
from doorcode.services.lock_sync import lock_codes
from doorcode.sync.provisioning import install_virtual_locks

router = APIRouter(prefix="/locks", tags=["locks"])


@router.get("")
def list_locks(runtime: RuntimeDep, caller: CallerDep) -> list[LockBody]:
    """Every lock of the organisation."""
    return [lock_body(lock) for lock in locks.list_locks(runtime.uow(), caller)]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_lock(body: NewLockBody, runtime: RuntimeDep, caller: CallerDep) -> LockBody:
    """Record a lock."""
    details = locks.LockDetails(
        name=body.name,
        provider=body.provider,
        external_id=body.external_id,
        capabilities=capabilities_of(body.capabilities),
        account=body.account,
    )
    lock = locks.add_lock(runtime.uow(), caller, details)
    install_virtual_locks(runtime)
    return lock_body(lock)


@router.get("/{reference}")
def get_lock(reference: str, runtime: RuntimeDep, caller: CallerDep) -> LockBody:
    """One lock, by id, external id or name."""
    return lock_body(locks.find_lock(runtime.uow(), caller, reference))


@router.get("/{reference}/codes")
def get_lock_codes(
    reference: str, runtime: RuntimeDep, caller: CallerDep, include_past: bool = False
) -> LockCodesBody:
    """Each grant's code on the lock: desired against actual, attempts and last error."""
    return lock_codes_body(lock_codes(runtime.uow(), caller, reference, include_past=include_past))


class LockRemovalBody(BaseModel):
    """What removing a lock did: codes deleted from the device, grants that lost the lock."""

    lock_id: str
    codes_deleted: int
    grants_changed: list[str]
    forgotten_unreachable: bool


@router.delete("/{reference}")
def delete_lock(
    reference: str, runtime: RuntimeDep, caller: CallerDep, forget_unreachable: bool = False
) -> LockRemovalBody:
    """Remove a lock: it leaves its properties and grants, its codes leave the device, then
    it is forgotten. A lock that cannot be reached is kept (409) unless ``forget_unreachable``.
    """
    removal = remove_lock(runtime, caller, reference, forget_anyway=forget_unreachable)
    return LockRemovalBody(
        lock_id=removal.lock_id,
        codes_deleted=removal.codes_deleted,
        grants_changed=list(removal.grants_changed),
        forgotten_unreachable=removal.forgotten_unreachable,
    )


class SlotsBody(BaseModel):
    """The slots doorcode may write on a Z-Wave or Zigbee lock; null: the default range."""

    slots: str | None = Field(
        description="first-last, like 4-30; null gives back the default (all but slots 1-3)",
        max_length=20,
    )


class LockSlotsBody(BaseModel):
    """Where a slot-addressed lock's slots stand."""

    lock_id: str
    slots: str | None = Field(description="The range doorcode writes; null: the size is unknown.")
    chosen: bool = Field(description="Whether an operator set the range (else the default).")
    held: dict[int, str] = Field(description="Slot -> id of the grant whose code it holds.")


@router.get("/{reference}/slots")
def get_lock_slots(reference: str, runtime: RuntimeDep, caller: CallerDep) -> LockSlotsBody:
    """The slots doorcode writes on the lock and which grant holds each."""
    return _slots_body(lock_slots(runtime.uow(), caller, runtime.providers, reference))


@router.put("/{reference}/slots")
def put_lock_slots(
    reference: str, body: SlotsBody, runtime: RuntimeDep, caller: CallerDep
) -> LockSlotsBody:
    """Set the slots doorcode may write; refused (422) when a guest's code sits outside them."""
    wanted = parse_slot_range(body.slots) if body.slots is not None else None
    return _slots_body(set_lock_slots(runtime.uow(), caller, runtime.providers, reference, wanted))


def _slots_body(view: LockSlots) -> LockSlotsBody:
    return LockSlotsBody(
        lock_id=view.lock.id,
        slots=str(view.owned) if view.owned else None,
        chosen=view.chosen,
        held=view.held,
    )


class KeypadAnswer(BaseModel):
    """What the door did."""

    opened: bool
    reason: str
    grant_id: str | None


@router.post("/{reference}/keypad")
def type_on_keypad(
    reference: str, body: KeypadBody, runtime: RuntimeDep, caller: CallerDep
) -> KeypadAnswer:
    """Type a code on a virtual lock's keypad (owners and managers; the demo's door)."""
    result = enter_on_keypad(
        runtime.uow(), caller, runtime.providers, reference, body.code, body.at
    )
    return KeypadAnswer(opened=result.opened, reason=result.reason, grant_id=result.grant_id)


def capabilities_of(body: CapabilitiesBody) -> LockCapabilities:
    """The domain value a capabilities body describes."""
    rules = body.constraints
    return LockCapabilities(
        code_lengths=frozenset(body.code_lengths),
        alphabet=body.alphabet,
        constraints=CodeConstraints(
            no_zeros=rules.no_zeros,
            forbidden_prefixes=frozenset(rules.forbidden_prefixes),
            forbidden_substrings=frozenset(rules.forbidden_substrings),
            min_distinct_symbols=rules.min_distinct_symbols,
            no_all_same=rules.no_all_same,
            no_sequence=rules.no_sequence,
            no_triple_run=rules.no_triple_run,
        ),
        max_codes=body.max_codes,
        native_scheduling=body.native_scheduling,
        online=body.online,
        offline_codes=body.offline_codes,
        enter_key=body.enter_key,
    )
