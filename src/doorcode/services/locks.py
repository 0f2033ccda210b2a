"""Locks as records: adding them with their capabilities and listing them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from doorcode.domain.code_policy import Alphabet, CodePolicy
from doorcode.domain.lock_capabilities import LockCapabilities, policy_for_locks
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, NotFound
from doorcode.store.capability_codec import capabilities_from_json, capabilities_to_json
from doorcode.store.models import Lock
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["LockDetails", "add_lock", "change_lock", "find_lock", "list_locks"]

SUBJECT = "lock"


@dataclass(frozen=True, slots=True)
class LockDetails:
    """A lock as an operator or a provider's device list describes it."""

    name: str
    provider: str = "virtual"
    external_id: str | None = None
    capabilities: LockCapabilities = field(default_factory=LockCapabilities)

    def provider_id(self, organisation_slug: str) -> str:
        """The id the provider knows the lock by.

        When none is given (virtual locks, records), a slug of the organisation and the name:
        two hosts who both call a lock "Flat 1 door" must not end up on one device.
        """
        if self.external_id:
            return self.external_id
        return re.sub(r"[^a-z0-9]+", "-", f"{organisation_slug} {self.name}".lower()).strip("-")


def add_lock(uow: UnitOfWork, caller: Caller, details: LockDetails) -> Lock:
    """A new lock, in no property's group yet."""
    caller.require_writer()
    with uow:
        org = caller.organisation_id
        organisation = uow.organisations.get(org)
        assert organisation is not None
        external_id = details.provider_id(organisation.slug)
        if uow.locks.by_provider_id(details.provider, external_id) is not None:
            raise AlreadyExists(f"{details.provider} device {external_id!r} is already in use")
        lock = Lock(
            organisation_id=org,
            name=details.name,
            provider=details.provider,
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
        uow.commit()
        return lock


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
