"""Alerts: what threatens a guest's arrival, raised once and cleared when it is fixed.

``raise_alert`` and ``clear_alert`` are part of the caller's transaction (they do not commit),
and both are idempotent: raising an alert that is already open only refreshes its message,
and clearing one that is not open does nothing. Messages never carry a code or a secret.
The reconciler raises and clears its own ``GrantCodeMissing`` alerts in ``sync/review.py``.
"""

from __future__ import annotations

import logging

from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.models import Alert
from doorcode.store.repositories import AlertFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "DISMISSIBLE",
    "clear_alert",
    "dismiss_alert",
    "list_alerts",
    "list_open_alerts",
    "raise_alert",
]

DISMISSIBLE = frozenset(
    {
        "GuestReportedCodeProblem",
        "HostNotReachable",
        "UnknownCodeOpened",
        "CodeOpenedOutsideWindow",
        "RepeatedRefusals",
    }
)
"""Alerts about what people said or did at a door, which no later pass can see resolved."""

logger = logging.getLogger(__name__)


def raise_alert(
    uow: UnitOfWork, organisation_id: str, kind: str, subject: tuple[str, str], message: str
) -> None:
    """Open an alert of ``kind`` about ``subject`` (type, id), unless one is open already."""
    alert = uow.alerts.open_alert(organisation_id, kind, subject)
    if alert is not None:
        alert.message, alert.updated_at = message, uow.now
        return
    uow.alerts.add(
        Alert(
            organisation_id=organisation_id,
            kind=kind,
            subject_type=subject[0],
            subject_id=subject[1],
            message=message,
            raised_at=uow.now,
            updated_at=uow.now,
        )
    )
    logger.warning("alert %s on %s %s: %s", kind, subject[0], subject[1], message)


def clear_alert(uow: UnitOfWork, organisation_id: str, kind: str, subject: tuple[str, str]) -> None:
    """Close the open alert of ``kind`` about ``subject``, if there is one."""
    alert = uow.alerts.open_alert(organisation_id, kind, subject)
    if alert is not None:
        alert.cleared_at = alert.updated_at = uow.now


def list_alerts(uow: UnitOfWork, caller: Caller, which: AlertFilter) -> list[Alert]:
    """Alerts of the caller's organisation, newest first; open ones only unless asked."""
    with uow:
        return uow.alerts.search(caller.organisation_id, which)


def list_open_alerts(
    uow: UnitOfWork, organisation_id: str, subject: tuple[str, str] | None = None
) -> list[Alert]:
    """The organisation's open alerts (about ``subject`` if given), in their own transaction."""
    with uow:
        return uow.alerts.open_alerts(organisation_id, subject)


def dismiss_alert(uow: UnitOfWork, caller: Caller, alert_id: str) -> Alert:
    """Close an alert an operator has dealt with; only kinds nothing else would ever clear."""
    caller.require_writer()
    with uow:
        alert = uow.alerts.get(caller.organisation_id, alert_id)
        if alert is None or alert.cleared_at is not None:
            raise NotFound("alert", alert_id)
        if alert.kind not in DISMISSIBLE:
            raise InvalidRequest("this alert clears by itself once the problem is gone")
        alert.cleared_at = alert.updated_at = uow.now
        record_event(uow, caller, ("alert", alert.id), "AlertDismissed", alert.kind)
        uow.commit()
        return alert
