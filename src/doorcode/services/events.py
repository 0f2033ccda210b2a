"""Reading the audit log."""

from __future__ import annotations

from doorcode.services.caller import Caller
from doorcode.store.models import Event
from doorcode.store.repositories import EventFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["list_events"]


def list_events(uow: UnitOfWork, caller: Caller, which: EventFilter) -> list[Event]:
    """Audit events of the caller's organisation, newest first."""
    with uow:
        return uow.events.search(caller.organisation_id, which)
