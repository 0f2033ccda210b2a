"""Typing a code on a virtual lock's keypad: the demo's way to see a code open a door."""

from __future__ import annotations

import re
import string
from datetime import datetime

from doorcode.domain.code_policy import Alphabet
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import KeypadResult, VirtualCloud, VirtualLockProvider
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["enter_on_keypad", "program_keypad", "register_short_pin"]

_LONGEST_ENTRY = 16
_KEYS = {
    Alphabet.NUMERIC: (frozenset(string.digits), "digits"),
    Alphabet.ALPHANUMERIC: (
        frozenset(string.digits + string.ascii_uppercase),
        "digits and letters",
    ),
}
"""What each kind of keypad has keys for, and how its refusal names them. A letter key has no
case, so letters are taken in either case; a numeric keypad has no letter keys at all."""


def enter_on_keypad(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    code: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Whether ``code`` typed at ``at`` (default now) opens the virtual lock ``lock_ref``."""
    cloud, device, alphabet = _virtual_device(uow, caller, providers, lock_ref)
    keys, named = _KEYS[alphabet]
    typed = code.upper() if code.isascii() else code
    if not 1 <= len(typed) <= _LONGEST_ENTRY or not keys.issuperset(typed):
        raise InvalidRequest(f"this keypad takes 1 to {_LONGEST_ENTRY} {named}")
    return cloud.enter(device, typed, at)


def register_short_pin(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    pin: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Type a short PIN at an offline keypad; it registers within 10 s of an offline opening."""
    if not (pin.isascii() and pin.isdigit()):
        raise InvalidRequest("a short PIN is 4 to 8 digits")
    cloud, device, _ = _virtual_device(uow, caller, providers, lock_ref)
    return cloud.register_short_pin(device, pin, at)


def program_keypad(
    uow: UnitOfWork,
    caller: Caller,
    providers: ProviderRegistry,
    lock_ref: str,
    sequence: str,
    at: datetime | None = None,
) -> KeypadResult:
    """Type a programming sequence (``*`` first, ``#`` for Enter), such as a block, at an offline
    keypad."""
    if not re.fullmatch(r"[0-9*#]{0,63}#", sequence):
        raise InvalidRequest("a programming sequence is digits, * and # (Enter), ending with #")
    cloud, device, _ = _virtual_device(uow, caller, providers, lock_ref)
    return cloud.program(device, sequence, at)


def _virtual_device(
    uow: UnitOfWork, caller: Caller, providers: ProviderRegistry, lock_ref: str
) -> tuple[VirtualCloud, str, Alphabet]:
    """The simulated device behind a virtual lock, and its keypad's alphabet; only owners and
    managers may type on it.

    A keypad that answers is a way to test guesses, hence the role check.
    """
    caller.require_writer()
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        provider, device = lock.provider, lock.external_id
        alphabet = capabilities_from_json(lock.capabilities).alphabet
    cloud = providers.virtual_cloud
    if provider != VirtualLockProvider.kind or cloud is None:
        raise InvalidRequest(
            f"{lock.name} is a {provider} lock: only virtual locks have a keypad here"
        )
    if not cloud.has_device(device):
        raise InvalidRequest(f"{lock.name} has no virtual device yet: run `doorcode lock sync`")
    return cloud, device, alphabet
