"""/grants: list, create manual codes, reveal (audited), revoke and regenerate."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.rendering import grant_body
from doorcode.api.schemas import (
    CodeBody,
    GrantBody,
    ManualGrantBody,
    OfflineCodeBody,
    RevokeBody,
)
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.services import grants
from doorcode.store.repositories import GrantFilter

router = APIRouter(prefix="/grants", tags=["grants"])


@router.get("")
def list_grants(
    runtime: RuntimeDep,
    caller: CallerDep,
    kind: Literal["guest", "staff", "master", "manual"] | None = None,
    reservation_id: str | None = None,
    lock_id: str | None = None,
    include_revoked: bool = True,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[GrantBody]:
    """Grants, soonest start first; codes are not included."""
    which = GrantFilter(
        kind=kind,
        reservation_id=reservation_id,
        lock_id=lock_id,
        include_revoked=include_revoked,
        limit=limit,
        offset=offset,
    )
    now = runtime.clock()
    return [grant_body(grant, now) for grant in grants.list_grants(runtime.uow(), caller, which)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_grant(body: ManualGrantBody, runtime: RuntimeDep, caller: CallerDep) -> GrantBody:
    """A staff, master or manual code; omit ``code`` to have one chosen."""
    request = grants.ManualGrantRequest(
        kind=GrantKind(body.kind),
        holder=body.holder,
        window=TimeWindow(body.starts_at, body.ends_at),
        property_ref=body.property,
        lock_refs=tuple(body.locks),
        reservation_id=body.reservation_id,
        code=body.code,
        code_length=body.code_length,
    )
    grant = grants.create_manual_grant(runtime.uow(), caller, request)
    return grant_body(grant, runtime.clock())


@router.get("/{grant_id}")
def get_grant(grant_id: str, runtime: RuntimeDep, caller: CallerDep) -> GrantBody:
    """One grant, without its code."""
    return grant_body(grants.get_grant(runtime.uow(), caller, grant_id), runtime.clock())


@router.get("/{grant_id}/code")
def reveal_code(grant_id: str, runtime: RuntimeDep, caller: CallerDep) -> CodeBody:
    """The grant's code in clear (owners and managers); each reveal is an audit event."""
    access = grants.reveal_access(runtime.uow(), caller, grant_id)
    offline = [
        OfflineCodeBody(
            lock_id=lock.lock_id,
            lock_name=lock.lock_name,
            code=lock.code,
            starts_at=lock.window.starts_at,
            ends_at=lock.window.ends_at,
            vendor=lock.vendor,
            rules=list(lock.rules),
        )
        for lock in access.offline
    ]
    return CodeBody(grant_id=grant_id, code=access.code, offline_codes=offline)


@router.post("/{grant_id}/revoke")
def revoke_grant(
    grant_id: str, runtime: RuntimeDep, caller: CallerDep, body: RevokeBody | None = None
) -> GrantBody:
    """Revoke at once; the code leaves every lock."""
    reason = body.reason if body else ""
    grant = grants.revoke_grant(runtime.uow(), caller, grant_id, reason)
    return grant_body(grant, runtime.clock())


@router.post("/{grant_id}/regenerate")
def regenerate_code(grant_id: str, runtime: RuntimeDep, caller: CallerDep) -> GrantBody:
    """A fresh code for the same grant."""
    return grant_body(grants.regenerate_code(runtime.uow(), caller, grant_id), runtime.clock())
