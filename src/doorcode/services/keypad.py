"""Typing a code on a virtual lock's keypad: the demo's way to see a code open a door."""

from __future__ import annotations

import re
from datetime import datetime

from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import KeypadResult, VirtualCloud, VirtualLockProvider
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["enter_on_keypad", "program_keypad", "register_short_pin"]

_TYPABLE = re.compile(r"^[0-9A-Z]{1,16}$")


def enter_on_keypad(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    code: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Whether ``code`` typed at ``at`` (default now) opens the virtual lock ``lock_ref``."""
    if not _TYPABLE.match(code):
        raise InvalidRequest("a keypad takes 1 to 16 digits or capital letters")
    cloud, device = _virtual_device(uow, caller, providers, lock_ref)
    return cloud.enter(device, code, at)


def register_short_pin(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    pin: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Register a short PIN at an offline keypad, within seconds of an offline code opening it."""
    if not pin.isdigit():
        raise InvalidRequest("a short PIN is 4 to 8 digits")
    cloud, device = _virtual_device(uow, caller, providers, lock_ref)
    return cloud.register_short_pin(device, pin, at)


def program_keypad(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    sequence: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Type a programming sequence (``#`` for Enter), such as a block, at an offline keypad."""
    if not re.fullmatch(r"[0-9#]{1,64}", sequence):
        raise InvalidRequest("a programming sequence is digits and # (Enter)")
    cloud, device = _virtual_device(uow, caller, providers, lock_ref)
    return cloud.program(device, sequence, at)


def _virtual_device(
    uow: UnitOfWork, caller: Caller, providers: ProviderRegistry, lock_ref: str
) -> tuple[VirtualCloud, str]:
    """The simulated device behind a virtual lock; only owners and managers may type on it.

    A keypad that answers is a way to test guesses, hence the role check.
    """
    caller.require_writer()
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        provider, device = lock.provider, lock.external_id
    cloud = providers.virtual_cloud
    if provider != VirtualLockProvider.kind or cloud is None:
        raise InvalidRequest(
            f"{lock.name} is a {provider} lock: only virtual locks have a keypad here"
        )
    if not cloud.has_device(device):
        raise InvalidRequest(f"{lock.name} has no virtual device yet: run `doorcode lock sync`")
    return cloud, device
