"""Typing a code on a virtual lock's keypad: the demo's way to see a code open a door."""

from __future__ import annotations

import re
from datetime import datetime

from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import KeypadResult, VirtualLockProvider
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["enter_on_keypad"]

_TYPABLE = re.compile(r"^[0-9A-Z]{1,16}$")


def enter_on_keypad(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    code: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Whether ``code`` typed at ``at`` (default now) opens the virtual lock ``lock_ref``.

    Only owners and managers may: a keypad that answers is a way to test guesses.
    """
    caller.require_writer()
    if not _TYPABLE.match(code):
        raise InvalidRequest("a keypad takes 1 to 16 digits or capital letters")
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        provider, device = lock.provider, lock.external_id
    cloud = providers.virtual_cloud
    if provider != VirtualLockProvider.name or cloud is None:
        raise InvalidRequest(
            f"{lock.name} is a {provider} lock: only virtual locks have a keypad here"
        )
    if not cloud.has_device(device):
        raise InvalidRequest(f"{lock.name} has no virtual device yet: run `doorcode lock sync`")
    return cloud.enter(device, code, at)
