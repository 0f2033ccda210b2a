"""Read models for the dashboard: everything one page shows, read in one transaction.

Rows stop lazy-loading once their unit of work closes, so each page's data is gathered
here, inside the transaction, into plain frozen values; templates never reach back into
the database. Nothing here returns a code: revealing one is ``services.access_codes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.grants import GrantState
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.lock_code_status import LockCodeStatus
from doorcode.domain.windows import Edge, local_instant, zone_named
from doorcode.services.arrivals import arrival_of
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound
from doorcode.services.grants import state_of
from doorcode.services.lock_health import health_attention
from doorcode.services.lock_sync import lock_code_status_of
from doorcode.services.messages import LogEntry
from doorcode.services.offline_lock_codes import is_offline_only
from doorcode.services.subjects import Subject, name_subjects
from doorcode.store.access_repository import AccessEventFilter
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.message_repository import MessageFilter
from doorcode.store.models import (
    AccessEventRow,
    Alert,
    Event,
    Grant,
    HostNotice,
    Lock,
    LockCode,
    LockHealthSample,
    Property,
    Reservation,
)
from doorcode.store.repositories import AlertFilter, EventFilter, GrantFilter, ReservationFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "AlertLine",
    "EventLine",
    "GrantPage",
    "GrantRow",
    "GrantSummary",
    "LockCodeLine",
    "LockPage",
    "Movement",
    "Overview",
    "PropertyPage",
    "ReservationPage",
    "ReservationRow",
    "SearchResults",
    "TimelineGrant",
    "alert_lines",
    "count_events",
    "count_reservations",
    "days_span",
    "display_zone",
    "event_lines",
    "grant_page",
    "grant_rows",
    "local_midnight",
    "lock_page",
    "overview",
    "property_page",
    "reservation_page",
    "reservation_rows",
    "search",
    "timeline_of_properties",
]

UTC_ZONE = ZoneInfo("UTC")
NEAR = timedelta(hours=36)
# The notify planner's alert for a booking no message can reach (notify imports services, so
# the name is repeated here rather than imported). A calendar feed never carries contact
# details, so for its bookings the alert is expected, and the Today page groups them.
GUEST_UNREACHABLE = "GuestUnreachable"


@dataclass(frozen=True, slots=True)
class AlertLine:
    """An open alert and what it is about, in words."""

    alert: Alert
    subject: Subject


@dataclass(frozen=True, slots=True)
class EventLine:
    """An audit event, what it is about in words, and the clock to read its time on."""

    event: Event
    subject: Subject
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class LockCodeLine:
    """One grant's code on one lock, in words: never the code."""

    lock_id: str
    lock_name: str
    status: LockCodeStatus
    last_error: str | None
    next_attempt_at: datetime | None
    attempts: int
    offline_only: bool


@dataclass(frozen=True, slots=True)
class GrantSummary:
    """A grant as pages show it, with where its code stands on each lock."""

    id: str
    kind: str
    holder: str
    state: GrantState
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    version: int
    reservation_id: str | None
    property_id: str | None
    offline_grant: bool
    locks: tuple[LockCodeLine, ...]


@dataclass(frozen=True, slots=True)
class TimelineGrant:
    """One bar of a timeline: a grant's window, kind and state."""

    grant_id: str
    kind: str
    state: GrantState
    holder: str
    starts_at: datetime
    ends_at: datetime
    reservation_id: str | None


@dataclass(frozen=True, slots=True)
class Movement:
    """An arrival or a departure today, with the code's status on each lock."""

    reservation: Reservation
    property_name: str
    zone: ZoneInfo
    at: datetime
    grant: GrantSummary | None
    arrived_at: datetime | None = None
    """When the guest arrived (first opening, or the guidebook button); None: not yet."""


@dataclass(frozen=True, slots=True)
class LockAttention:
    """A lock an operator should look at, and why."""

    lock: Lock
    reason: str
    health: LockHealthSample | None = None


@dataclass(frozen=True, slots=True)
class Overview:
    """Today at a glance."""

    zone: ZoneInfo
    arrivals: list[Movement]
    departures: list[Movement]
    alerts: list[AlertLine]
    attention: list[LockAttention]
    battery_reported: bool = False
    # Calendar bookings without contact details: expected, so shown as one notice, not many.
    calendar_unreachable: list[AlertLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReservationRow:
    """A line of the reservations list."""

    reservation: Reservation
    property_name: str
    zone: ZoneInfo
    grant: GrantSummary | None


@dataclass(frozen=True, slots=True)
class ReservationPage:
    """A reservation with its grants, messages, notices to the host and events."""

    reservation: Reservation
    property_name: str
    zone: ZoneInfo
    guest_grant: GrantSummary | None
    other_grants: list[GrantSummary]
    messages: list[LogEntry]
    notices: list[HostNotice]
    events: list[EventLine]
    alerts: list[Alert]
    guide_token: str = field(repr=False)
    openings: list[AccessEventRow] = field(default_factory=list)
    arrived_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GrantPage:
    """One grant, the reservation it belongs to (if any), and its events."""

    grant: GrantSummary
    zone: ZoneInfo
    reservation: Reservation | None
    property_name: str | None
    events: list[EventLine]
    openings: list[AccessEventRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LockPage:
    """A lock, its capabilities, the grants on it and its timeline."""

    lock: Lock
    capabilities: LockCapabilities
    property_names: list[tuple[str, str]]
    zone: ZoneInfo
    codes: list[tuple[GrantSummary, LockCodeLine]]
    timeline: list[TimelineGrant]
    span: tuple[datetime, datetime]
    events: list[EventLine]
    access_log: list[AccessEventRow] = field(default_factory=list)
    health: LockHealthSample | None = None
    battery: list[LockHealthSample] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PropertyPage:
    """A property, its lock group, the locks it could link, its stays and its timeline."""

    prop: Property
    zone: ZoneInfo
    locks: list[Lock]
    other_locks: list[Lock]
    reservations: list[ReservationRow]
    timeline: list[TimelineGrant]
    span: tuple[datetime, datetime]


def display_zone(properties: Iterable[Property]) -> ZoneInfo:
    """The zone to show instants that belong to no one property in: the properties' common
    zone if they share one, else UTC."""
    zones = {prop.time_zone for prop in properties}
    return zone_named(zones.pop()) if len(zones) == 1 else UTC_ZONE


def overview(uow: UnitOfWork, caller: Caller, battery_threshold: int = 25) -> Overview:
    """Today's arrivals and departures (each on its property's calendar), open alerts, and
    locks in trouble."""
    with uow:
        org = caller.organisation_id
        properties = uow.properties.all(org)
        which = ReservationFilter(
            active_at_or_after=uow.now - NEAR, starts_before=uow.now + NEAR, limit=1000
        )
        nearby = uow.reservations.search(org, which)
        grants = uow.grants.guest_grants_of([reservation.id for reservation in nearby])
        arrivals, departures = [], []
        for reservation in nearby:
            zone = zone_named(reservation.property.time_zone)
            today = uow.now.astimezone(zone).date()
            if reservation.status == "cancelled":
                continue
            grant = grants.get(reservation.id)
            summary = summarise(grant, uow.now) if grant is not None else None
            if reservation.check_in == today:
                arrival = _movement(reservation, zone, reservation.starts_at, summary)
                arrivals.append(replace(arrival, arrived_at=_arrived_at(uow, reservation)))
            if reservation.check_out == today:
                departures.append(_movement(reservation, zone, reservation.ends_at, summary))
        alerts = _alert_lines(uow, org, uow.alerts.open_alerts(org))
        return Overview(
            zone=display_zone(properties),
            arrivals=sorted(arrivals, key=lambda movement: movement.at),
            departures=sorted(departures, key=lambda movement: movement.at),
            alerts=[line for line in alerts if not _is_calendar_unreachable(line)],
            attention=_locks_needing_attention(uow, org, battery_threshold),
            battery_reported=bool(uow.access.latest_samples(org)),
            calendar_unreachable=[line for line in alerts if _is_calendar_unreachable(line)],
        )


def count_reservations(uow: UnitOfWork, caller: Caller, which: ReservationFilter) -> int:
    """How many reservations a listing holds in all, so its pager can say how many pages."""
    with uow:
        return uow.reservations.count(caller.organisation_id, which)


def count_events(uow: UnitOfWork, caller: Caller, which: EventFilter) -> int:
    """How many audit events match, so the audit log's pager can say how many pages."""
    with uow:
        return uow.events.count(caller.organisation_id, which)


def alert_lines(uow: UnitOfWork, caller: Caller, which: AlertFilter) -> list[AlertLine]:
    """Alerts, newest first, each with what it is about in words and on which clock."""
    with uow:
        alerts = uow.alerts.search(caller.organisation_id, which)
        return _alert_lines(uow, caller.organisation_id, alerts)


def _alert_lines(uow: UnitOfWork, org: str, alerts: list[Alert]) -> list[AlertLine]:
    keys = [(alert.subject_type, alert.subject_id) for alert in alerts]
    named = name_subjects(uow, org, keys)
    return [AlertLine(alert, named[key]) for alert, key in zip(alerts, keys, strict=True)]


def _is_calendar_unreachable(line: AlertLine) -> bool:
    source = line.subject.source or ""
    return line.alert.kind == GUEST_UNREACHABLE and source.startswith("ical:")


def event_lines(uow: UnitOfWork, caller: Caller, which: EventFilter) -> list[EventLine]:
    """Audit events, newest first, each named and on its property's clock (else the
    organisation's common zone, else UTC)."""
    with uow:
        org = caller.organisation_id
        fallback = display_zone(uow.properties.all(org))
        events = uow.events.search(org, which)
        keys = [(event.subject_type, event.subject_id) for event in events]
        named = name_subjects(uow, org, keys)
        return [
            EventLine(event, named[key], named[key].zone or fallback)
            for event, key in zip(events, keys, strict=True)
        ]


def reservation_rows(
    uow: UnitOfWork, caller: Caller, which: ReservationFilter
) -> list[ReservationRow]:
    """The reservations list: each with its property, zone and guest grant's lock statuses."""
    with uow:
        return _reservation_rows(uow, caller.organisation_id, which)


def _reservation_rows(
    uow: UnitOfWork, organisation_id: str, which: ReservationFilter
) -> list[ReservationRow]:
    found = uow.reservations.search(organisation_id, which)
    grants = uow.grants.guest_grants_of([reservation.id for reservation in found])
    return [
        ReservationRow(
            reservation,
            reservation.property.name,
            zone_named(reservation.property.time_zone),
            summarise(grants[reservation.id], uow.now) if reservation.id in grants else None,
        )
        for reservation in found
    ]


@dataclass(frozen=True, slots=True)
class SearchResults:
    """What a search found: properties, and bookings by guest, contact, reference or place."""

    properties: list[Property]
    reservations: list[ReservationRow]


def search(uow: UnitOfWork, caller: Caller, text: str, limit: int = 50) -> SearchResults:
    """Properties and reservations (past ones too) whose words hold ``text``."""
    with uow:
        org = caller.organisation_id
        found = uow.properties.matching(org, text, limit)
        which = ReservationFilter(text=text, limit=limit)
        return SearchResults(found, _reservation_rows(uow, org, which))


def reservation_page(uow: UnitOfWork, caller: Caller, reservation_id: str) -> ReservationPage:
    """Everything about one reservation."""
    with uow:
        org = caller.organisation_id
        reservation = uow.reservations.get(org, reservation_id)
        if reservation is None:
            raise NotFound("reservation", reservation_id)
        prop = reservation.property
        grants = uow.grants.search(org, GrantFilter(reservation_id=reservation.id, limit=50))
        guest = next((grant for grant in grants if grant.kind == "guest"), None)
        others = [summarise(grant, uow.now) for grant in grants if grant is not guest]
        messages = uow.messages.search(org, MessageFilter(reservation_id=reservation.id, limit=50))
        subject = ("reservation", reservation.id)
        return ReservationPage(
            reservation=reservation,
            property_name=prop.name,
            zone=zone_named(prop.time_zone),
            guest_grant=summarise(guest, uow.now) if guest is not None else None,
            other_grants=others,
            messages=[LogEntry(message, delivery) for message, delivery in messages],
            notices=uow.host_notices.of_reservation(org, reservation.id),
            events=_events_about(uow, org, [subject, *(("grant", g.id) for g in grants)]),
            alerts=uow.alerts.open_alerts(org, subject),
            guide_token=uow.reservations.guide_token_of(reservation),
            openings=_openings(uow, org, grants),
            arrived_at=_arrived_at(uow, reservation),
        )


def _openings(uow: UnitOfWork, organisation_id: str, grants: list[Grant]) -> list[AccessEventRow]:
    """Openings and refusals with the codes of these grants, newest first."""
    if not grants:
        return []
    return uow.access.search(organisation_id, AccessEventFilter(grant_ids=[g.id for g in grants]))


def _arrived_at(uow: UnitOfWork, reservation: Reservation) -> datetime | None:
    """When the stay was marked arrived (first opening, or the guidebook button)."""
    arrived = arrival_of(uow, reservation)
    return arrived.occurred_at if arrived is not None else None


def grant_page(uow: UnitOfWork, caller: Caller, grant_id: str) -> GrantPage:
    """One grant with its events."""
    with uow:
        org = caller.organisation_id
        grant = uow.grants.get(org, grant_id)
        if grant is None:
            raise NotFound("grant", grant_id)
        reservation = grant.reservation
        prop = _property_of(uow, org, grant)
        zone = zone_named(prop.time_zone) if prop is not None else _lock_zone(grant)
        return GrantPage(
            grant=summarise(grant, uow.now),
            zone=zone,
            reservation=reservation,
            property_name=prop.name if prop is not None else None,
            events=_events_about(uow, org, [("grant", grant.id)]),
            openings=_openings(uow, org, [grant]),
        )


def lock_page(
    uow: UnitOfWork,
    caller: Caller,
    lock_ref: str,
    days: int,
    log: AccessEventFilter | None = None,
    log_since_day: date | None = None,
    history: timedelta = timedelta(weeks=6),
) -> LockPage:
    """A lock with the grants on it, its timeline over the next ``days`` local days, its
    access log (as ``log`` filters it) and its health over the last ``history``."""
    with uow:
        org = caller.organisation_id
        lock = uow.locks.find(org, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        rows = uow.lock_sync.codes_on(lock.id, uow.now)
        codes = [
            (summarise(grant, uow.now), _line(code, grant.version, _is_live(grant, uow.now)))
            for code, grant in rows
        ]
        zone = display_zone(lock.properties)
        span = days_span(uow.now, zone, days)
        return LockPage(
            lock=lock,
            capabilities=capabilities_from_json(lock.capabilities),
            property_names=[(prop.id, prop.name) for prop in lock.properties],
            zone=zone,
            codes=codes,
            timeline=_timeline(uow, org, [lock.id], span),
            span=span,
            events=_events_about(uow, org, [("lock", lock.id)]),
            access_log=_access_log(uow, org, lock.id, log, log_since_day, zone),
            health=uow.access.latest_sample(lock.id),
            battery=_battery_history(uow, lock.id, uow.now - history),
        )


def _access_log(
    uow: UnitOfWork,
    organisation_id: str,
    lock_id: str,
    log: AccessEventFilter | None,
    since_day: date | None,
    zone: ZoneInfo,
) -> list[AccessEventRow]:
    """The lock's log as filtered, from the start of ``since_day`` on the lock's clock."""
    which = replace(log or AccessEventFilter(), lock_id=lock_id)
    if since_day is not None:
        which = replace(which, since=local_midnight(since_day, zone))
    return uow.access.search(organisation_id, which)


def _battery_history(uow: UnitOfWork, lock_id: str, since: datetime) -> list[LockHealthSample]:
    """The readings since ``since``, led by the last one before it (the level it started at)."""
    before = uow.access.samples_since(lock_id, since - timedelta(weeks=1))
    earlier = [sample for sample in before if sample.observed_at < since][-1:]
    return earlier + [sample for sample in before if sample.observed_at >= since]


def property_page(uow: UnitOfWork, caller: Caller, reference: str, days: int) -> PropertyPage:
    """A property with its locks, its stays not over yet, and its timeline over the next
    ``days`` local days."""
    with uow:
        org = caller.organisation_id
        prop = uow.properties.find(org, reference)
        if prop is None:
            raise NotFound("property", reference)
        linked = {lock.id for lock in prop.locks}
        which = ReservationFilter(property_id=prop.id, active_at_or_after=uow.now, limit=50)
        found = uow.reservations.search(org, which)
        grants = uow.grants.guest_grants_of([reservation.id for reservation in found])
        zone = zone_named(prop.time_zone)
        span = days_span(uow.now, zone, days)
        rows = [
            ReservationRow(
                reservation,
                prop.name,
                zone,
                summarise(grants[reservation.id], uow.now) if reservation.id in grants else None,
            )
            for reservation in found
        ]
        return PropertyPage(
            prop=prop,
            zone=zone,
            locks=list(prop.locks),
            other_locks=[lock for lock in uow.locks.all(org) if lock.id not in linked],
            reservations=rows,
            timeline=_timeline(uow, org, sorted(linked), span, prop.id),
            span=span,
        )


def timeline_of_properties(
    uow: UnitOfWork, caller: Caller, span: tuple[datetime, datetime]
) -> list[tuple[Property, list[TimelineGrant]]]:
    """Every property with the grants on its locks over ``span``."""
    with uow:
        org = caller.organisation_id
        return [
            (prop, _timeline(uow, org, [lock.id for lock in prop.locks], span, prop.id))
            for prop in uow.properties.all(org)
        ]


def summarise(grant: Grant, now: datetime) -> GrantSummary:
    """A grant as pages show it; must run inside the grant's transaction (it reads locks)."""
    return GrantSummary(
        id=grant.id,
        kind=grant.kind,
        holder=grant.holder,
        state=state_of(grant, now),
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        version=grant.version,
        reservation_id=grant.reservation_id,
        property_id=grant.property_id,
        offline_grant=grant.offline_key_group_id is not None,
        locks=tuple(
            sorted(
                (_line(code, grant.version, _is_live(grant, now)) for code in grant.lock_codes),
                key=lambda line: line.lock_name,
            )
        ),
    )


def _is_live(grant: Grant, now: datetime) -> bool:
    return grant.revoked_at is None and grant.ends_at > now


def _line(code: LockCode, version: int, live: bool = True) -> LockCodeLine:
    """One lock code in words."""
    status = lock_code_status_of(code, version, live)
    return LockCodeLine(
        lock_id=code.lock_id,
        lock_name=code.lock.name,
        status=status,
        last_error=code.last_error,
        next_attempt_at=code.next_attempt_at,
        attempts=code.attempts,
        offline_only=is_offline_only(code.lock),
    )


def _movement(
    reservation: Reservation, zone: ZoneInfo, at: datetime, grant: GrantSummary | None
) -> Movement:
    return Movement(reservation, reservation.property.name, zone, at, grant)


def _locks_needing_attention(
    uow: UnitOfWork, organisation_id: str, battery_threshold: int
) -> list[LockAttention]:
    """Locks offline or low on battery, the soonest arrival at stake first; then locks the
    last pass could not reach, and locks holding codes that failed."""
    failed: dict[str, int] = {}
    for code, version in uow.lock_sync.current_codes_of(organisation_id, uow.now):
        if lock_code_status_of(code, version) is LockCodeStatus.FAILED:
            failed[code.lock_id] = failed.get(code.lock_id, 0) + 1
    found = [
        LockAttention(item.lock, item.message, item.sample)
        for item in health_attention(uow, organisation_id, battery_threshold)
    ]
    samples = uow.access.latest_samples(organisation_id)
    listed = {item.lock.id for item in found}
    for lock in uow.locks.all(organisation_id):
        if lock.id in listed:
            continue
        if lock.sync_error:
            found.append(LockAttention(lock, lock.sync_error, samples.get(lock.id)))
        elif lock.id in failed:
            count = failed[lock.id]
            failing = f"{count} code{'s' if count > 1 else ''} failed"
            found.append(LockAttention(lock, failing, samples.get(lock.id)))
    return found


def _timeline(
    uow: UnitOfWork,
    organisation_id: str,
    lock_ids: Sequence[str],
    span: tuple[datetime, datetime],
    of_property: str | None = None,
) -> list[TimelineGrant]:
    """The grants on any of the locks whose windows meet ``span``, soonest first.

    For a property, grants that follow another property's group are left out: a shared
    street door holds the neighbours' codes too, but they are not this property's stays.
    """
    starts, ends = span
    seen: dict[str, TimelineGrant] = {}
    for lock_id in lock_ids:
        which = GrantFilter(lock_id=lock_id, ending_after=starts, limit=500)
        for grant in uow.grants.search(organisation_id, which):
            elsewhere = of_property is not None and grant.property_id not in (of_property, None)
            if grant.starts_at < ends and grant.id not in seen and not elsewhere:
                seen[grant.id] = TimelineGrant(
                    grant.id,
                    grant.kind,
                    state_of(grant, uow.now),
                    grant.holder,
                    grant.starts_at,
                    grant.ends_at,
                    grant.reservation_id,
                )
    return sorted(seen.values(), key=lambda bar: (bar.starts_at, bar.grant_id))


def _events_about(
    uow: UnitOfWork, organisation_id: str, subjects: Sequence[tuple[str, str]]
) -> list[EventLine]:
    """The latest events about any of the subjects, newest first, each named as the audit
    log names it (a page of one stay lists its grant's events too, and says which is which)."""
    events: dict[int, Event] = {}
    for subject_type, subject_id in subjects:
        which = EventFilter(subject_type=subject_type, subject_id=subject_id, limit=100)
        events.update((event.id, event) for event in uow.events.search(organisation_id, which))
    latest = sorted(events.values(), key=lambda event: event.id, reverse=True)[:200]
    keys = [(event.subject_type, event.subject_id) for event in latest]
    named = name_subjects(uow, organisation_id, keys)
    fallback = display_zone(uow.properties.all(organisation_id))
    return [
        EventLine(event, named[key], named[key].zone or fallback)
        for event, key in zip(latest, keys, strict=True)
    ]


def _property_of(uow: UnitOfWork, organisation_id: str, grant: Grant) -> Property | None:
    property_id = grant.property_id
    if property_id is None and grant.reservation is not None:
        property_id = grant.reservation.property_id
    return uow.properties.get(organisation_id, property_id) if property_id else None


def _lock_zone(grant: Grant) -> ZoneInfo:
    return display_zone(prop for code in grant.lock_codes for prop in code.lock.properties)


def days_span(now: datetime, zone: ZoneInfo, days: int) -> tuple[datetime, datetime]:
    """From the start of today on ``zone``'s calendar to the start of the day ``days`` later
    (a daylight-saving change makes one of them 23 or 25 hours long, as it is on site)."""
    today = now.astimezone(zone).date()
    return local_midnight(today, zone), local_midnight(today + timedelta(days=days), zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` on ``zone``'s calendar (a DST gap moves it forward)."""
    return local_instant(day, time(0), zone, Edge.START)


@dataclass(frozen=True, slots=True)
class GrantRow:
    """A line of the codes list: a grant and the zone its times read in."""

    grant: GrantSummary
    zone: ZoneInfo


def grant_rows(uow: UnitOfWork, caller: Caller, which: GrantFilter) -> list[GrantRow]:
    """Grants matching ``which`` with their lock statuses, each in its property's zone."""
    with uow:
        org = caller.organisation_id
        zones = {prop.id: zone_named(prop.time_zone) for prop in uow.properties.all(org)}
        rows = []
        for grant in uow.grants.search(org, which):
            property_id = grant.property_id or (
                grant.reservation.property_id if grant.reservation is not None else None
            )
            zone = zones.get(property_id or "") or _lock_zone(grant)
            rows.append(GrantRow(summarise(grant, uow.now), zone))
        return rows
