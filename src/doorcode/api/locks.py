"""/locks: the devices, their capabilities, and where the codes on them stand."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

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
from doorcode.services import locks
from doorcode.services.keypad import enter_on_keypad
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
