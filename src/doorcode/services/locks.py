"""Locks as records: adding them with their capabilities and listing them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from doorcode.domain.code_policy import MAX_CODE_LENGTH, MIN_CODE_LENGTH, Alphabet, CodePolicy
from doorcode.domain.lock_capabilities import LockCapabilities, policy_for_locks
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.services.naming import check_name
from doorcode.services.properties import find_in, link_in
from doorcode.services.provider_accounts import account_for_provider
from doorcode.store.capability_codec import capabilities_from_json, capabilities_to_json
from doorcode.store.models import Lock, ProviderAccountRow
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "LONGEST_KEYPAD_CODE",
    "LockDetails",
    "add_lock",
    "change_lock",
    "check_capabilities",
    "find_lock",
    "list_locks",
]

SUBJECT = "lock"


@dataclass(frozen=True, slots=True)
class LockDetails:
    """A lock as an operator or a provider's device list describes it."""

    name: str
    provider: str = "virtual"
    external_id: str | None = None
    capabilities: LockCapabilities = field(default_factory=LockCapabilities)
    account: str | None = None
    """The provider account (id or label); by default the organisation's account of the kind."""
    property_refs: tuple[str, ...] = ()
    """Properties (id, external id or name) whose groups the lock joins as it is added."""

    def provider_id(self, organisation_slug: str) -> str:
        """The id the provider knows the lock by.

        When none is given (virtual locks, records), a slug of the organisation and the name:
        two hosts who both call a lock "Flat 1 door" must not end up on one device.
        """
        if self.external_id:
            return self.external_id
        return re.sub(r"[^a-z0-9]+", "-", f"{organisation_slug} {self.name}".lower()).strip("-")


def add_lock(uow: UnitOfWork, caller: Caller, details: LockDetails) -> Lock:
    """A new lock, in the groups of ``details.property_refs`` (all of them, or no lock)."""

    caller.require_writer()
    check_name("a lock", details.name)
    check_capabilities(details.capabilities)
    with uow:
        org = caller.organisation_id
        organisation = uow.organisations.get(org)
        assert organisation is not None
        account = _account(uow, org, details)
        groups = [find_in(uow, caller, reference) for reference in details.property_refs]
        external_id = details.provider_id(organisation.slug)
        if uow.locks.by_provider_id(account.kind, external_id) is not None:
            raise AlreadyExists(f"{account.kind} device {external_id!r} is already in use")
        lock = Lock(
            organisation_id=org,
            name=details.name,
            provider=account.kind,
            account_id=account.id,
            external_id=external_id,
            capabilities=capabilities_to_json(details.capabilities),
            created_at=uow.now,
            properties=[],
        )
        uow.locks.add(lock)
        uow.flush()
        record_event(
            uow,
            caller,
            (SUBJECT, lock.id),
            "LockAdded",
            details.name,
            after={"provider": lock.provider, "external_id": external_id},
        )
        for prop in groups:
            link_in(uow, caller, prop, lock)
        uow.commit()
        return lock


LONGEST_KEYPAD_CODE = 20
"""No keypad takes longer codes (offline keypads take up to 12); a bound on a typed range."""


def check_capabilities(capabilities: LockCapabilities) -> None:
    """Capabilities some doorcode code can satisfy: lengths within 1–20 that include one of
    4–10 (the lengths codes are chosen at), and room for at least one code.

    ``--min-length 8 --max-length 4`` was stored as a lock that takes no code at all, and
    every grant on it then failed at the reconciler instead of here.
    """
    lengths = capabilities.code_lengths
    usable = set(range(MIN_CODE_LENGTH, MAX_CODE_LENGTH + 1))
    if not lengths & usable or not lengths <= set(range(1, LONGEST_KEYPAD_CODE + 1)):
        raise InvalidRequest(
            f"a lock must take codes of some length from {MIN_CODE_LENGTH} to "
            f"{MAX_CODE_LENGTH} symbols, and none over {LONGEST_KEYPAD_CODE}"
        )
    if capabilities.max_codes is not None and capabilities.max_codes < 1:
        raise InvalidRequest("a lock stores at least 1 code")


def _account(uow: UnitOfWork, organisation_id: str, details: LockDetails) -> ProviderAccountRow:
    """The account the new lock belongs to: the one named, or the organisation's of the kind."""
    if details.account is None:
        return account_for_provider(uow, organisation_id, details.provider)
    account = uow.provider_accounts.find(organisation_id, details.account)
    if account is None:
        raise NotFound("provider account", details.account)
    return account


def find_lock(uow: UnitOfWork, caller: Caller, reference: str) -> Lock:
    """A lock by id, external id or name."""
    with uow:
        lock = uow.locks.find(caller.organisation_id, reference)
        if lock is None:
            raise NotFound("lock", reference)
        _ = lock.properties
        return lock


def list_locks(uow: UnitOfWork, caller: Caller) -> list[Lock]:
    """Every lock of the caller's organisation, with the properties it serves."""
    with uow:
        return uow.locks.all(caller.organisation_id)


def change_lock(
    uow: UnitOfWork, caller: Caller, reference: str, name: str, capabilities: LockCapabilities
) -> Lock:
    """Rename a lock or correct its capabilities; the reconciler looks at it again.

    New capabilities must still take every linked property's codes (``InvalidCodePolicy``
    otherwise): a group's codes are chosen for all of its locks at once.
    """
    caller.require_writer()
    check_name("a lock", name)
    check_capabilities(capabilities)
    with uow:
        lock = uow.locks.find(caller.organisation_id, reference)
        if lock is None:
            raise NotFound("lock", reference)
        for prop in lock.properties:
            others = [capabilities_from_json(other.capabilities) for other in prop.locks]
            wanted = CodePolicy(prop.code_length, Alphabet(prop.code_alphabet))
            policy_for_locks(wanted, [*others, capabilities])
        before = {"name": lock.name, "capabilities": lock.capabilities}
        lock.name = name
        lock.capabilities = capabilities_to_json(capabilities)
        after = {"name": lock.name, "capabilities": lock.capabilities}
        if before != after:
            uow.touch_locks({lock.id})
            record_event(
                uow, caller, (SUBJECT, lock.id), "LockChanged", name, before=before, after=after
            )
            uow.commit()
        return lock
