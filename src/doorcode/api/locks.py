"""/locks: the devices, as records with their capabilities."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.rendering import lock_body
from doorcode.api.schemas import CapabilitiesBody, LockBody, NewLockBody
from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.services import locks

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
    )
    return lock_body(locks.add_lock(runtime.uow(), caller, details))


@router.get("/{reference}")
def get_lock(reference: str, runtime: RuntimeDep, caller: CallerDep) -> LockBody:
    """One lock, by id, external id or name."""
    return lock_body(locks.find_lock(runtime.uow(), caller, reference))


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
