"""Writing audit events from the services: one shape for every kind of subject."""

from __future__ import annotations

from typing import Any

from doorcode.services.caller import Caller
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["record_event"]


def record_event(
    uow: UnitOfWork,
    caller: Caller,
    subject: tuple[str, str],
    kind: str,
    reason: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append an event about ``subject`` (type, id), by the caller, at the transaction's time."""
    details = {key: value for key, value in (("before", before), ("after", after)) if value}
    uow.events.record(
        caller.organisation_id,
        at=uow.now,
        actor=caller.actor,
        kind=kind,
        subject=subject,
        reason=reason,
        details=details,
    )
