"""Reading alerts: what an operator must look at, open ones first."""

from __future__ import annotations

from doorcode.services.caller import Caller
from doorcode.store.models import Alert
from doorcode.store.repositories import AlertFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["list_alerts"]


def list_alerts(uow: UnitOfWork, caller: Caller, which: AlertFilter) -> list[Alert]:
    """Alerts of the caller's organisation, newest first; open ones only unless asked."""
    with uow:
        return uow.alerts.search(caller.organisation_id, which)
