"""Access events: storing what the locks report, what each new one sets off, and the views.

Back-ends deliver events two ways, and both end here: a webhook route parses a vendor's body
(``parse_<vendor>_webhook``) and calls ``ingest_access_events``; the poller asks each lock for
the events after its cursor and calls ``record_poll``. An event is stored once per (lock,
event id) however often it comes (``AccessRepository.add_new``), and only the delivery that
stored it acts on it, so a replay never tells the host twice.

What a new event sets off, in the same transaction:

* an opening with a stay's code (its guest code, or the backup code released to it) marks
  the stay arrived the first time (``services.arrivals``), and clears the stay's open alerts
  about a code that does not work or repeated refusals;
* an opening with a grant's code outside the grant's window, or with a code doorcode did not
  set, is an alert: the lock holds something it should not;
* repeated refusals at a lock during a stay raise an alert that points at the backup code.

Events carry the back-end's reference to a code, never the code: nothing here can log one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.domain.messages import ChannelName
from doorcode.domain.windows import zone_named
from doorcode.locks.access_events import AccessEvent, AccessOutcome
from doorcode.locks.tags import grant_id_from_tag
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.arrivals import mark_arrived_by_door
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.access_repository import AccessEventFilter, NewAccessEvent
from doorcode.store.models import AccessEventRow, Grant, Lock
from doorcode.store.row_holds import hold_row
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "ALERT_CODE_OUTSIDE_WINDOW",
    "ALERT_REPEATED_REFUSALS",
    "ALERT_UNKNOWN_CODE",
    "AccessPolicy",
    "IngestReport",
    "grant_access_events",
    "ingest_access_events",
    "lock_access_events",
    "record_events_of_lock",
    "reservation_access_events",
]

logger = logging.getLogger(__name__)

ALERT_UNKNOWN_CODE = "UnknownCodeOpened"
ALERT_CODE_OUTSIDE_WINDOW = "CodeOpenedOutsideWindow"
ALERT_REPEATED_REFUSALS = "RepeatedRefusals"
ALERT_CODE_PROBLEM = "GuestReportedCodeProblem"
REFUSAL_SPAN = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The deployment's settings for what events and health readings set off."""

    channels: frozenset[ChannelName] = frozenset()
    refusals_alert_count: int = 3
    battery_alert_percent: int = 25
    retention: timedelta = timedelta(days=396)


@dataclass
class IngestReport:
    """What one delivery did: events stored, events seen before, events for no lock of ours."""

    stored: int = 0
    repeated: int = 0
    unknown_device: int = 0


def ingest_access_events(
    uow: UnitOfWork,
    provider: str,
    events: Sequence[AccessEvent],
    policy: AccessPolicy,
    via: str = "webhook",
) -> IngestReport:
    """Store a back-end's events (a webhook's, say) and act on the new ones; one transaction."""
    report = IngestReport()
    with uow:
        locks = {}
        for device_id in sorted({event.device_id for event in events}):
            lock = uow.locks.by_provider_id(provider, device_id)
            if lock is not None:
                locks[device_id] = lock
        _hold_in_order(uow, locks.values())
        for event in sorted(events, key=_delivery_order):
            lock = locks.get(event.device_id)
            if lock is None:
                report.unknown_device += 1
                continue
            _record(uow, lock, event, policy, via, report)
        uow.commit()
    if report.unknown_device:
        logger.info(
            "%d %s event(s) for devices doorcode has no lock for", report.unknown_device, provider
        )
    return report


def record_events_of_lock(
    uow: UnitOfWork,
    lock: Lock,
    events: Sequence[AccessEvent],
    policy: AccessPolicy,
    via: str = "poll",
) -> IngestReport:
    """Store one lock's polled events and act on the new ones (caller's transaction)."""
    report = IngestReport()
    if events:  # an idle lock's poll writes nothing, not even a hold
        _hold_in_order(uow, [lock])
    for event in sorted(events, key=_delivery_order):
        if event.device_id == lock.external_id:
            _record(uow, lock, event, policy, via, report)
    return report


def lock_access_events(
    uow: UnitOfWork, caller: Caller, lock_ref: str, which: AccessEventFilter
) -> tuple[Lock, list[AccessEventRow]]:
    """A lock's access events, newest first, as ``which`` filters them."""
    _check(which)
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        scoped = AccessEventFilter(
            lock.id, None, which.outcome, which.since, which.until, which.limit
        )
        return lock, uow.access.search(caller.organisation_id, scoped)


def reservation_access_events(
    uow: UnitOfWork, caller: Caller, reservation_id: str, which: AccessEventFilter
) -> list[AccessEventRow]:
    """Openings and refusals with the codes of a stay (its guest code, a released backup)."""
    _check(which)
    with uow:
        org = caller.organisation_id
        reservation = uow.reservations.get(org, reservation_id)
        if reservation is None:
            raise NotFound("reservation", reservation_id)
        grant_ids = [grant.id for grant in uow.grants.tied_to_any(reservation.id)]
        scoped = AccessEventFilter(
            None, grant_ids, which.outcome, which.since, which.until, which.limit
        )
        return uow.access.search(org, scoped) if grant_ids else []


def grant_access_events(
    uow: UnitOfWork, caller: Caller, grant_id: str, limit: int = 100
) -> list[AccessEventRow]:
    """The openings and refusals with one grant's code."""
    with uow:
        grant = uow.grants.get(caller.organisation_id, grant_id)
        if grant is None:
            raise NotFound("grant", grant_id)
        which = AccessEventFilter(grant_ids=[grant.id], limit=limit)
        return uow.access.search(caller.organisation_id, which)


def _hold_in_order(uow: UnitOfWork, locks: Iterable[Lock]) -> None:
    """Deliveries about the same locks take turns, holding them in id order.

    Storing an opening may hold its stay's reservation (first use); two deliveries that
    each stored one event and wanted the other's would otherwise wait for each other
    forever. Lock rows first, in one order, then the reservation: no cycle.
    """
    for lock_id in sorted(lock.id for lock in locks):
        hold_row(uow.session, Lock.id, lock_id)


def _delivery_order(event: AccessEvent) -> tuple[datetime, str, str]:
    return (event.occurred_at, event.device_id, event.event_id)


def _check(which: AccessEventFilter) -> None:
    if which.outcome is not None and which.outcome not in {o.value for o in AccessOutcome}:
        raise InvalidRequest("outcome is 'opened' or 'refused'")
    if which.since is not None and which.until is not None and which.since >= which.until:
        raise InvalidRequest("since must be before until")
    if not 1 <= which.limit <= 1000:
        raise InvalidRequest("limit is 1 to 1000")


def _record(
    uow: UnitOfWork,
    lock: Lock,
    event: AccessEvent,
    policy: AccessPolicy,
    via: str,
    report: IngestReport,
) -> None:
    grant = _grant_of(uow, lock, event.code_ref, event.occurred_at)
    row = uow.access.add_new(
        NewAccessEvent(
            organisation_id=lock.organisation_id,
            lock_id=lock.id,
            event_id=event.event_id[:200],
            occurred_at=event.occurred_at,
            outcome=event.outcome.value,
            reason=None if event.reason is None else event.reason.value,
            method=event.method.value,
            code_ref=None if event.code_ref is None else event.code_ref[:200],
            grant_id=None if grant is None else grant.id,
            via=via,
        ),
        uow.now,
    )
    if row is None:
        report.repeated += 1
        return
    report.stored += 1
    if event.outcome is AccessOutcome.OPENED:
        _on_opening(uow, lock, event, grant, policy)
    else:
        _on_refusal(uow, lock, event, policy)


def _grant_of(uow: UnitOfWork, lock: Lock, code_ref: str | None, at: datetime) -> Grant | None:
    """The grant whose code the reference names on this lock: by our tag, else by code id.

    A slot number is reused by one grant after another, so an event naming a slot belongs to
    the grant that held it at the event's instant, not to whoever holds it when it arrives.
    """
    if code_ref is None:
        return None
    tagged = grant_id_from_tag(code_ref)
    if tagged is not None:
        return uow.access.grant_on_lock(tagged, lock.id)
    return uow.access.grant_by_code_id(lock.id, code_ref, at)


def _on_opening(
    uow: UnitOfWork, lock: Lock, event: AccessEvent, grant: Grant | None, policy: AccessPolicy
) -> None:
    at = event.occurred_at
    if grant is None:
        if event.code_ref is not None:
            raise_alert(
                uow,
                lock.organisation_id,
                ALERT_UNKNOWN_CODE,
                ("lock", lock.id),
                f"{lock.name} was opened at {_local(lock, at)} with a code doorcode did not set "
                f"(the lock's reference {event.code_ref!r}): remove it if no one should have it",
            )
        return
    if not (grant.starts_at <= at < grant.ends_at) or (
        grant.revoked_at is not None and grant.revoked_at <= at
    ):
        raise_alert(
            uow,
            lock.organisation_id,
            ALERT_CODE_OUTSIDE_WINDOW,
            ("grant", grant.id),
            f"{lock.name} was opened at {_local(lock, at)} with the code of "
            f"{grant.holder or grant.kind}, outside its window: the lock still holds it",
        )
        return
    reservation = grant.reservation
    if reservation is None or reservation.status != "confirmed":
        return
    mark_arrived_by_door(uow, reservation, lock.id, lock.name, at, policy.channels)
    subject = ("reservation", reservation.id)
    clear_alert(uow, lock.organisation_id, ALERT_CODE_PROBLEM, subject)
    clear_alert(uow, lock.organisation_id, ALERT_REPEATED_REFUSALS, subject)


def _on_refusal(uow: UnitOfWork, lock: Lock, event: AccessEvent, policy: AccessPolicy) -> None:
    """Enough refusals within a quarter of an hour during a stay: the guest may be stuck."""
    at = event.occurred_at
    refused = uow.access.count_refused(lock.id, at - REFUSAL_SPAN, at)
    if refused < policy.refusals_alert_count:
        return
    for reservation in uow.access.stays_at_lock(lock.id, at):
        backup = (
            "release the backup code from the reservation page"
            if reservation.property.backup_codes
            else "call them (this property keeps no backup code)"
        )
        raise_alert(
            uow,
            lock.organisation_id,
            ALERT_REPEATED_REFUSALS,
            ("reservation", reservation.id),
            f"{refused} refused attempts at {lock.name} within 15 minutes (the last at "
            f"{_local(lock, at)}) during the stay of {reservation.guest_name or 'a guest'}: "
            f"if they cannot get in, {backup}",
        )


def _local(lock: Lock, at: datetime) -> str:
    zones = {prop.time_zone for prop in lock.properties}
    zone = zone_named(zones.pop()) if len(zones) == 1 else zone_named("UTC")
    return at.astimezone(zone).strftime("%H:%M %Z")
