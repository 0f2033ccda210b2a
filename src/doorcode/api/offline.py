"""/offline: key groups and offline codes (issue, check, block) for locks without a network."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.schemas import Instant, Strict
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.services import offline_codes
from doorcode.store.models import OfflineKeyGroup

router = APIRouter(prefix="/offline", tags=["offline codes"])


class KeyGroupInputBody(Strict):
    """A key group over locks that check offline codes."""

    name: str = Field(min_length=1, max_length=200)
    locks: list[str] = Field(min_length=1)
    digits: int = Field(default=10, ge=8, le=12)


class KeyGroupBody(BaseModel):
    """A key group; never its key."""

    id: str
    name: str
    digits: int
    epoch: datetime
    key_version: int
    key_exported: bool
    lock_ids: list[str]


class KeyExportBody(BaseModel):
    """What to load into the group's locks; answered once per key."""

    group_uuid: str
    epoch: datetime
    digits: int
    key_version: int
    key_hex: str
    programming_code: str


class IssueBody(Strict):
    """A window to issue an offline code for."""

    key_group: str
    starts_at: Instant
    ends_at: Instant
    holder: str = Field(default="", max_length=200)
    kind: Literal["guest", "staff", "master", "manual"] = "manual"

    @model_validator(mode="after")
    def _ends_after_start(self) -> IssueBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class WindowBody(BaseModel):
    """A window of time."""

    starts_at: datetime
    ends_at: datetime


class IssuedBody(BaseModel):
    """An offline code and the window it really opens (which covers the one asked for)."""

    grant_id: str
    code: str
    requested: WindowBody
    issued: WindowBody


class CheckBody(Strict):
    """A code to diagnose."""

    key_group: str
    code: str = Field(min_length=1, max_length=32)
    at: Instant | None = None


class DiagnosisBody(BaseModel):
    """What a code carries."""

    valid: bool
    window: WindowBody | None
    opens_at: bool
    blocked: bool
    grant_id: str | None


class BlockBody(Strict):
    """A code to block."""

    key_group: str
    code: str = Field(min_length=8, max_length=12, pattern=r"^[0-9]+$")


class SequenceBody(BaseModel):
    """What to type at every lock of the group (secret: it holds the programming code)."""

    keys: str
    steps: list[str]


@router.get("/key-groups")
def list_key_groups(runtime: RuntimeDep, caller: CallerDep) -> list[KeyGroupBody]:
    """The organisation's key groups."""
    return [_group(g) for g in offline_codes.list_key_groups(runtime.uow(), caller)]


@router.post("/key-groups", status_code=status.HTTP_201_CREATED)
def create_key_group(
    body: KeyGroupInputBody, runtime: RuntimeDep, caller: CallerDep
) -> KeyGroupBody:
    """A key group with a fresh 256-bit key."""
    group = offline_codes.create_key_group(
        runtime.uow(), caller, body.name, tuple(body.locks), body.digits
    )
    return _group(group)


@router.post("/key-groups/{reference}/export")
def export_key_group(reference: str, runtime: RuntimeDep, caller: CallerDep) -> KeyExportBody:
    """The key and programming code, once per key (owners only)."""
    export = offline_codes.export_key_group(runtime.uow(), caller, reference)
    return KeyExportBody(
        group_uuid=export.group_uuid,
        epoch=export.epoch,
        digits=export.digits,
        key_version=export.key_version,
        key_hex=export.key_hex,
        programming_code=export.programming_code,
    )


@router.post("/key-groups/{reference}/rotate")
def rotate_key_group(reference: str, runtime: RuntimeDep, caller: CallerDep) -> KeyGroupBody:
    """A new key; every outstanding code of the group is revoked (owners only)."""
    return _group(offline_codes.rotate_key_group(runtime.uow(), caller, reference))


@router.post("/codes", status_code=status.HTTP_201_CREATED)
def issue_code(body: IssueBody, runtime: RuntimeDep, caller: CallerDep) -> IssuedBody:
    """An offline grant; the answer says which window the code really opens."""
    requested = TimeWindow(body.starts_at, body.ends_at)
    issued = offline_codes.issue_offline_grant(
        runtime.uow(), caller, body.key_group, requested, body.holder, GrantKind(body.kind)
    )
    return IssuedBody(
        grant_id=issued.grant.id,
        code=issued.code,
        requested=_window(issued.requested),
        issued=_window(issued.issued),
    )


@router.post("/codes/check")
def check_code(body: CheckBody, runtime: RuntimeDep, caller: CallerDep) -> DiagnosisBody:
    """Which window a code carries and whether it opens at ``at`` (default: now)."""
    at = body.at or runtime.clock()
    found = offline_codes.check_offline_code(runtime.uow(), caller, body.key_group, body.code, at)
    return DiagnosisBody(
        valid=found.window is not None,
        window=_window(found.window) if found.window else None,
        opens_at=found.opens_at,
        blocked=found.blocked,
        grant_id=found.grant_id,
    )


@router.post("/codes/block")
def block_code(body: BlockBody, runtime: RuntimeDep, caller: CallerDep) -> SequenceBody:
    """Block a code (revoking its grant); answers the keypad sequence to type at the locks."""
    blocked = offline_codes.block_offline_code(runtime.uow(), caller, body.key_group, body.code)
    sequence = blocked.sequence
    return SequenceBody(keys=sequence.keys, steps=list(sequence.steps()))


def _group(group: OfflineKeyGroup) -> KeyGroupBody:
    return KeyGroupBody(
        id=group.id,
        name=group.name,
        digits=group.digits,
        epoch=group.epoch,
        key_version=group.key_version,
        key_exported=group.key_exported_at is not None,
        lock_ids=[lock.id for lock in group.locks],
    )


def _window(window: TimeWindow) -> WindowBody:
    return WindowBody(starts_at=window.starts_at, ends_at=window.ends_at)
