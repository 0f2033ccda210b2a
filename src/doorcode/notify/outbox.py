"""The planner's outbox: read new audit events, plan the grants they are about, sweep the rest.

Events only say *which* grants to look at; ``plan_grant`` decides from their current state.
So a replayed event does nothing new, and an event missed altogether (on PostgreSQL an
event id can become visible after a higher one was read) is covered by the sweep: every
guest grant with a stay ahead and no message for its current version is planned too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from doorcode.notify.planner import plan_grant
from doorcode.store.models import Event, Grant
from doorcode.store.repositories import GrantFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["CURSOR", "EVENT_KINDS", "process_outbox"]

logger = logging.getLogger(__name__)

CURSOR = "messages"
BATCH = 500
EVENT_KINDS = (
    "GrantCreated",
    "GrantMoved",
    "GrantCodeChanged",
    "GrantRevoked",
    "GrantReinstated",
    "GrantCodesSet",
    "ReservationRecorded",
    "ReservationChanged",
    "ReservationCancelled",
)


def process_outbox(new_uow: Callable[[], UnitOfWork]) -> int:
    """Plan the grants of new events and of the sweep; returns how many grants were planned.

    Each grant is planned in a transaction of its own, so one that fails (and is logged)
    cannot hold the others back; the cursor moves on only after all were tried.
    """
    with new_uow() as uow:
        cursor = uow.messages.outbox(CURSOR)
        events = uow.messages.events_after(cursor.last_event_id, EVENT_KINDS, BATCH)
        subjects = sorted({_subject(event) for event in events})
        last_seen = events[-1].id if events else None
    planned = sum(_plan(new_uow, organisation, kind, ref) for organisation, kind, ref in subjects)
    if last_seen is not None:
        with new_uow() as uow:
            cursor = uow.messages.outbox(CURSOR)
            cursor.last_event_id = max(cursor.last_event_id, last_seen)
            uow.commit()
    with new_uow() as uow:
        found = uow.messages.unplanned_guest_grants(uow.now, BATCH)
        unplanned = [(grant.organisation_id, grant.id) for grant in found]
    planned += sum(_plan(new_uow, organisation, "grant", ref) for organisation, ref in unplanned)
    return planned


def _subject(event: Event) -> tuple[str, str, str]:
    return (event.organisation_id, event.subject_type, event.subject_id)


def _plan(new_uow: Callable[[], UnitOfWork], organisation: str, kind: str, ref: str) -> int:
    try:
        with new_uow() as uow:
            grants = _grants(uow, organisation, kind, ref)
            for grant in grants:
                plan_grant(uow, grant)
            uow.commit()
            return len(grants)
    except Exception:
        logger.exception("planning messages for %s %s failed; the sweep will retry", kind, ref)
        return 0


def _grants(uow: UnitOfWork, organisation: str, kind: str, ref: str) -> list[Grant]:
    if kind == "grant":
        grant = uow.grants.get(organisation, ref)
        return [grant] if grant is not None else []
    if kind == "reservation":
        return uow.grants.search(organisation, GrantFilter(reservation_id=ref, limit=1000))
    return []
