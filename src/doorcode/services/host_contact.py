"""Who guests should contact about their stay: the organisation's host contact."""

from __future__ import annotations

import re
from dataclasses import dataclass

from doorcode.domain.reservations import EMAIL_PATTERN, PHONE_PATTERN
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest
from doorcode.store.models import Organisation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["HostContact", "get_host_contact", "set_host_contact"]

EMAIL = re.compile(EMAIL_PATTERN)
PHONE = re.compile(PHONE_PATTERN)


@dataclass(frozen=True, slots=True)
class HostContact:
    """A name guests know the host by (empty: the organisation's name), an email, a phone."""

    name: str = ""
    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if len(self.name) > 200:
            raise InvalidRequest("the host's name is longer than 200 characters")
        if self.email is not None and (len(self.email) > 320 or not EMAIL.match(self.email)):
            raise InvalidRequest(f"{self.email!r} is not an email address")
        if self.phone is not None and (len(self.phone) > 40 or not PHONE.match(self.phone)):
            raise InvalidRequest(f"{self.phone!r} is not a phone number")


def get_host_contact(uow: UnitOfWork, caller: Caller) -> tuple[Organisation, HostContact]:
    """The organisation and its host contact."""
    with uow:
        organisation = _organisation(uow, caller)
        return organisation, _contact(organisation)


def set_host_contact(uow: UnitOfWork, caller: Caller, contact: HostContact) -> HostContact:
    """Replace the host contact shown in guest messages."""
    caller.require_owner()
    with uow:
        organisation = _organisation(uow, caller)
        before = _contact(organisation)
        organisation.host_name = contact.name
        organisation.host_email = contact.email
        organisation.host_phone = contact.phone
        record_event(
            uow,
            caller,
            ("organisation", organisation.id),
            "HostContactChanged",
            before={"name": before.name},
            after={"name": contact.name},
        )
        uow.commit()
        return contact


def _organisation(uow: UnitOfWork, caller: Caller) -> Organisation:
    organisation = uow.organisations.get(caller.organisation_id)
    assert organisation is not None
    return organisation


def _contact(organisation: Organisation) -> HostContact:
    return HostContact(organisation.host_name, organisation.host_email, organisation.host_phone)
