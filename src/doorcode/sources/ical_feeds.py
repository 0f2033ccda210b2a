"""Calendar feeds: fetch a property's iCal URLs, compare with what they said, record the news.

A property may have any number of feeds (one per channel, usually). Each sync:

1. **claims** the feed's poll (so two workers never poll one feed at once) and schedules the
   next one, ``interval`` ±10% later, before any I/O: a crash costs one interval, never a
   tight retry loop;
2. **fetches** the URL with ``If-None-Match`` / ``If-Modified-Since`` through the injected
   ``httpx.Client`` (``feed_client``: public addresses only, the whole fetch and the
   calendar's size bounded, see ``feed_fetch``); an error, a timeout, an empty body, an
   unreadable or oversized calendar
   is recorded on the feed and changes nothing else. A 304, or a body byte-for-byte the same
   as the last good one (many channels send no validators), is the same calendar again:
   nothing to read, but bookings missed last time are missed once more. Once a day the
   calendar is read in full regardless, so bookings that were beyond the horizon enter it
   even when the calendar itself never changes;
3. **reads** the calendar (``ical_parser``) and places each booking at the property: all-day
   events take the property's default check-in and check-out times, zoned times are
   converted to the property's zone, floating times are read as the property's;
4. **compares** with what the feed remembers (``domain.feed_diff``, the two-miss rule) and
   records each new or changed booking through ``apply_reservation`` (source
   ``ical:<feed id>``, external id = the event's UID) together with the feed's memory of it,
   one booking per transaction, so one bad event never blocks the others.

Identity is the UID, and never depends on what else the calendar holds: the same UID with
new dates is the same booking moved (the grant moves, the code stays). When a calendar lists a
UID twice, the booking already known by that UID keeps it (found by its check-out day, else
the first event not known otherwise), and each twin is known by UID and start date from then
on, so a twin coming or going never re-keys the original nor changes its guest's code. A UID
reused after its stay ended is a new booking. Channels regenerate the UID of a changed stay:
a new UID whose booking reference (or, without one, guest name and check-in day) is that of
one live booking whose UID left the calendar keeps that booking, its key and its code.
Bookings are recorded from the moment they are within ``horizon`` of now; stays already over
are not recorded at all.

A fetch that shows no readable booking (every event skipped, or only blocks), a 304 and a
body the same as last time never count a booking missing (``counts_absence``), so a broken
export can never cancel a stay.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from doorcode.domain.errors import CodeSpaceExhausted, DomainError
from doorcode.domain.feed_diff import FeedDiff, Remembered, diff_feed
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow, zone_named
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.naming import MAX_NAME_LENGTH
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    apply_cancellation,
    apply_reservation,
)
from doorcode.sources.feed_fetch import TIMEOUT, feed_client, fetch_calendar
from doorcode.sources.ical_parser import (
    CalendarUnreadable,
    Channel,
    EventKind,
    FeedEvent,
    ParsedCalendar,
    parse_calendar,
)
from doorcode.sources.webhook_sources import is_web_url, mask_url
from doorcode.store.models import Feed, FeedEntry
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "TIMEOUT",
    "FeedPolicy",
    "FeedSettings",
    "FetchOutcome",
    "SyncReport",
    "add_feed",
    "feed_caller",
    "feed_client",
    "list_feeds",
    "sync_feed",
]

logger = logging.getLogger(__name__)

SUBJECT = "feed"
FULL_READ_EVERY = timedelta(days=1)
FEED_ALERT = "FeedFailing"
"""Raised when a poll of a feed fails, cleared by its next good poll."""
GUEST_LABELS = {Channel.AIRBNB: "Airbnb guest", Channel.VRBO: "VRBO guest"}


class FetchOutcome(enum.StrEnum):
    """What one poll of a feed found."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    EMPTY = "empty"
    HTTP_ERROR = "http_error"
    UNREACHABLE = "unreachable"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"

    @property
    def is_good(self) -> bool:
        """Whether the fetch showed the calendar as it is (and may count a booking missing)."""
        return self in (FetchOutcome.OK, FetchOutcome.NOT_MODIFIED)

    @property
    def is_healthy(self) -> bool:
        """Whether the feed works: a valid calendar without events is no failure (a property
        with no bookings exports exactly that), though nothing is counted missing from it."""
        return self.is_good or self is FetchOutcome.EMPTY


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """A calendar URL to poll for a property."""

    property_ref: str
    url: str
    name: str = ""
    channel: Channel = Channel.AUTO
    include_blocked: bool = False
    interval_minutes: int | None = None

    def __repr__(self) -> str:
        return f"FeedSettings(property_ref={self.property_ref!r}, url=***)"


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    """Deployment-wide feed settings (``DOORCODE_FEED_INTERVAL``, ``..._HORIZON_DAYS``)."""

    interval: timedelta = timedelta(minutes=10)
    horizon: timedelta = timedelta(days=365)
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync of a feed did."""

    feed_id: str
    outcome: FetchOutcome
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    missed: int = 0
    skipped: tuple[str, ...] = ()
    message: str = ""


def feed_caller(organisation_id: str, feed_id: str, synced_by: str | None = None) -> Caller:
    """Who a feed acts as in the audit log (and who asked for the sync, if someone did)."""
    actor = f"feed:{feed_id}"
    if synced_by and synced_by != actor:
        actor += f" (synced by {synced_by})"
    return Caller(organisation_id, actor, Role.MANAGER)


def add_feed(uow: UnitOfWork, caller: Caller, settings: FeedSettings) -> Feed:
    """Add a calendar URL to a property; it is polled from now on."""
    caller.require_writer()
    url = _http_url(settings.url)
    if settings.interval_minutes is not None and not 1 <= settings.interval_minutes <= 1440:
        raise InvalidRequest("a feed is polled every 1 to 1440 minutes")
    with uow:
        prop = uow.properties.find(caller.organisation_id, settings.property_ref)
        if prop is None:
            raise NotFound("property", settings.property_ref)
        feed = Feed(
            organisation_id=caller.organisation_id,
            property_id=prop.id,
            name=settings.name or f"{prop.name} calendar",
            url_token=uow.cipher.encrypt(url),
            url_hint=mask_url(url),
            channel=settings.channel.value,
            include_blocked=settings.include_blocked,
            interval_seconds=settings.interval_minutes * 60 if settings.interval_minutes else None,
            next_poll_at=uow.now,
            failures=0,
            created_at=uow.now,
        )
        uow.feeds.add(feed)
        uow.flush()
        details = {"property_id": prop.id, "url": feed.url_hint, "channel": feed.channel}
        record_event(uow, caller, (SUBJECT, feed.id), "FeedAdded", after=details)
        uow.commit()
        feed.property = prop
        return feed


def list_feeds(uow: UnitOfWork, caller: Caller, property_ref: str | None = None) -> list[Feed]:
    """The organisation's feeds, of one property if given."""
    with uow:
        property_id = None
        if property_ref:
            prop = uow.properties.find(caller.organisation_id, property_ref)
            if prop is None:
                raise NotFound("property", property_ref)
            property_id = prop.id
        return uow.feeds.all(caller.organisation_id, property_id)


def sync_feed(
    uow: UnitOfWork,
    caller: Caller,
    client: httpx.Client,
    feed_id: str,
    policy: FeedPolicy,
    *,
    due_only: bool = False,
) -> SyncReport:
    """Poll one feed now and record what changed.

    With ``due_only`` (the poller), a feed that is no longer due, because another worker
    polled it meanwhile, is left alone; an operator's sync always polls.
    """
    caller.require_writer()
    target = _claim(uow, caller, feed_id, policy, due_only)
    caller = feed_caller(caller.organisation_id, feed_id, caller.actor)
    if target is None:
        return SyncReport(feed_id, FetchOutcome.NOT_MODIFIED, message="polled elsewhere")
    fetched = _fetch(client, target)
    parsed: ParsedCalendar | None = None
    if fetched.outcome is FetchOutcome.OK and fetched.content_hash == target.content_hash:
        fetched = _Fetched(FetchOutcome.NOT_MODIFIED, message="the same calendar as last time")
    elif fetched.outcome is FetchOutcome.OK:
        parsed, fetched = _parse(fetched, target.channel)
    if not fetched.outcome.is_good:
        report = SyncReport(feed_id, fetched.outcome, message=fetched.message)
        _finish(uow, caller, target, fetched, report, FeedDiff())
        return report
    return _apply(uow, caller, target, fetched, parsed, policy)


# --- claiming and fetching -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """What a sync needs of the feed and its property, read once."""

    feed_id: str
    organisation_id: str
    property_id: str
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    channel: Channel
    include_blocked: bool
    zone: ZoneInfo
    check_in: time
    check_out: time
    now: datetime

    def __repr__(self) -> str:
        return f"_Target(feed_id={self.feed_id!r}, url=***)"


@dataclass(frozen=True, slots=True)
class _Fetched:
    outcome: FetchOutcome
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    message: str = ""

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def _claim(
    uow: UnitOfWork, caller: Caller, feed_id: str, policy: FeedPolicy, due_only: bool
) -> _Target | None:
    with uow:
        feed = uow.feeds.get(caller.organisation_id, feed_id)
        if feed is None:
            raise NotFound("feed", feed_id)
        interval = timedelta(seconds=feed.interval_seconds) if feed.interval_seconds else None
        spread = 1 + policy.jitter * (2 * uow.rng.random() - 1)
        next_poll = uow.now + (interval or policy.interval) * spread
        due_by = uow.now if due_only else max(uow.now, feed.next_poll_at)
        if not uow.feeds.claim(feed.id, due_by, next_poll):
            return None
        prop = feed.property
        fresh = feed.last_read_at is not None and uow.now - feed.last_read_at < FULL_READ_EVERY
        target = _Target(
            feed_id=feed.id,
            organisation_id=feed.organisation_id,
            property_id=prop.id,
            url=uow.cipher.decrypt(feed.url_token),
            etag=feed.etag if fresh else None,
            last_modified=feed.last_modified if fresh else None,
            content_hash=feed.content_hash if fresh else None,
            channel=Channel(feed.channel),
            include_blocked=feed.include_blocked,
            zone=zone_named(prop.time_zone),
            check_in=prop.check_in_time,
            check_out=prop.check_out_time,
            now=uow.now,
        )
        uow.commit()
        return target


def _fetch(client: httpx.Client, target: _Target) -> _Fetched:
    """GET the calendar within the fetch limits (``feed_fetch``); the URL is never quoted."""
    validators = {}
    if target.etag:
        validators["If-None-Match"] = target.etag
    if target.last_modified:
        validators["If-Modified-Since"] = target.last_modified
    got = fetch_calendar(client, target.url, validators)
    return _Fetched(FetchOutcome(got.status), got.body, got.etag, got.last_modified, got.message)


def _parse(fetched: _Fetched, channel: Channel) -> tuple[ParsedCalendar | None, _Fetched]:
    try:
        parsed = parse_calendar(fetched.body, channel)
    except CalendarUnreadable as err:
        return None, _Fetched(FetchOutcome.UNREADABLE, message=str(err))
    if parsed.is_empty:
        return None, _Fetched(FetchOutcome.EMPTY, message="the calendar has no events")
    return parsed, fetched


# --- comparing and recording -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Booking:
    """A calendar booking placed at the property, ready to record."""

    key: str
    details: ReservationDetails
    window: TimeWindow
    fingerprint: str
    reservation_url: str | None


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    skipped: list[str] = field(default_factory=list)


def _apply(
    uow: UnitOfWork,
    caller: Caller,
    target: _Target,
    fetched: _Fetched,
    parsed: ParsedCalendar | None,
    policy: FeedPolicy,
) -> SyncReport:
    with uow:
        entries = uow.feeds.entries(target.feed_id)
        remembered = {
            key: Remembered(
                entry.fingerprint, entry.missing, entry.cancelled, entry.ends_at <= target.now
            )
            for key, entry in entries.items()
        }
        ends = {key: entry.ends_at for key, entry in entries.items()}
        new_uids = _new_uids(parsed, entries)
        absent = _absent_bookings(uow, caller, parsed, entries, target.now, new_uids)
    tally = _Tally()
    if parsed is None:  # 304: the calendar is as it was when last read
        present: set[str] = set()
        bookings: dict[str, _Booking] = {}
        cancelled: set[str] = set()
        counts_absence = False
    else:
        renamed = _renamed_uids(parsed, target.zone, new_uids, absent)
        present, bookings, cancelled = _read(
            parsed, target, remembered, ends, renamed, policy, tally
        )
        counts_absence = _shows_a_booking(parsed, target)
    fingerprints = {key: booking.fingerprint for key, booking in bookings.items()}
    diff = diff_feed(remembered, fingerprints, present, cancelled, counts_absence=counts_absence)
    for key in diff.record:
        _record(uow, caller, target, bookings[key], remembered.get(key), tally)
    for key in diff.cancel:
        reason = (
            "cancelled in the calendar"
            if key in cancelled
            else "gone from the calendar in two successive fetches"
        )
        _cancel(uow, caller, target, key, reason, tally)
    report = SyncReport(
        target.feed_id,
        fetched.outcome,
        created=tally.created,
        updated=tally.updated,
        cancelled=tally.cancelled,
        missed=len(diff.missed),
        skipped=tuple(tally.skipped),
        message=_summary(
            tally, diff, counts_absence or parsed is None, _missing_stays(uow, caller, target, diff)
        ),
    )
    _finish(uow, caller, target, fetched, report, diff)
    return report


def _shows_a_booking(parsed: ParsedCalendar, target: _Target) -> bool:
    """Whether the calendar holds one readable event that would be recorded as a stay."""
    recorded = {EventKind.BOOKING, *([EventKind.BLOCKED] if target.include_blocked else [])}
    return any(event.kind in recorded for event in parsed.events)


def _read(
    parsed: ParsedCalendar,
    target: _Target,
    remembered: dict[str, Remembered],
    ends: dict[str, datetime],
    renamed: Mapping[str, str],
    policy: FeedPolicy,
    tally: _Tally,
) -> tuple[set[str], dict[str, _Booking], set[str]]:
    """Keys the calendar shows, bookings worth recording, and keys it marks cancelled."""
    present: set[str] = set()
    bookings: dict[str, _Booking] = {}
    cancelled: set[str] = set()
    for skipped in parsed.skipped:
        tally.skipped.append(f"{skipped.uid or 'an event without UID'}: {skipped.reason}")
        if skipped.uid:
            present.add(skipped.uid)
            present.update(key for key in remembered if key.startswith(f"{skipped.uid}#"))
    today = target.now.astimezone(target.zone).date()
    first_day, last_day = today - timedelta(days=1), today + policy.horizon + timedelta(days=1)
    keys = _keys(parsed.events, remembered, ends, target.zone, renamed)
    for event, key in zip(parsed.events, keys, strict=True):
        if key is None:
            tally.skipped.append(f"{event.uid}: the same UID twice on one day; skipped")
            continue
        present.add(key)
        if event.kind is EventKind.CANCELLED:
            cancelled.add(key)
            continue
        if event.kind is EventKind.BLOCKED and not target.include_blocked:
            continue
        outside = _day(event.end) < first_day or _day(event.start) > last_day
        if outside and key not in remembered:
            continue  # long over or far ahead; calendars may hold years of history
        booking = _place(event, key, target, parsed.channel, tally)
        if booking is None:
            continue
        ahead = booking.window.starts_at <= target.now + policy.horizon
        live = booking.window.ends_at > target.now
        known = remembered.get(key)
        if (known is not None and not known.over) or (ahead and live):
            bookings[key] = booking
    return present, bookings, cancelled


def _keys(
    events: Sequence[FeedEvent],
    remembered: Mapping[str, Remembered],
    ends: Mapping[str, datetime],
    zone: ZoneInfo,
    renamed: Mapping[str, str] | None = None,
) -> list[str | None]:
    """Each event's booking key, decided per UID so no other UID can change it.

    The plain UID goes to the booking already known by it (same check-out day), else to the
    first event that is not a twin known by UID and date; every other event of the UID is
    known by UID and start date. None marks a second event of one UID on one day. A UID the
    channel regenerated for a known booking (``renamed``) keeps that booking's key.
    """
    renamed = renamed or {}
    keys: list[str | None] = [None] * len(events)
    by_uid: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        if event.uid is None:
            keys[index] = f"no-uid#{_day(event.start).isoformat()}#{_day(event.end).isoformat()}"
        else:
            by_uid[event.uid].append(index)
    for uid, members in by_uid.items():
        holder = _plain_holder(uid, [events[i] for i in members], remembered, ends, zone)
        taken: set[str] = set()
        for position, index in enumerate(members):
            key = renamed.get(uid, uid) if position == holder else _dated_key(events[index])
            if key not in taken:
                keys[index] = key
                taken.add(key)
    return keys


@dataclass(frozen=True, slots=True)
class _Absent:
    """A live booking whose UID the calendar no longer shows, as the reservation records it."""

    booking_reference: str | None
    guest_name: str
    check_in: date


_DATED = re.compile(r"#\d{4}-\d{2}-\d{2}$")


def _uid_of(key: str) -> str:
    return _DATED.sub("", key)


def _new_uids(parsed: ParsedCalendar | None, keys: Collection[str]) -> set[str]:
    """The UIDs of bookings the feed knows by no key: each may be a known booking whose UID
    the channel regenerated (``_renamed_uids``), and without one nothing needs reading."""
    if parsed is None:
        return set()
    known = {_uid_of(key) for key in keys}
    return {
        event.uid
        for event in parsed.events
        if event.uid and event.uid not in known and event.kind is EventKind.BOOKING
    }


def _absent_bookings(
    uow: UnitOfWork,
    caller: Caller,
    parsed: ParsedCalendar | None,
    entries: Mapping[str, FeedEntry],
    now: datetime,
    new_uids: Collection[str],
) -> dict[str, _Absent]:
    """The live bookings whose UID left the calendar, read only when a new UID came in."""
    if parsed is None or not new_uids:
        return {}
    uids = {event.uid for event in parsed.events} | {event.uid for event in parsed.skipped}
    absent: dict[str, _Absent] = {}
    for key, entry in entries.items():
        if entry.cancelled or entry.ends_at <= now or _uid_of(key) in uids:
            continue
        found = uow.reservations.get(caller.organisation_id, entry.reservation_id)
        if found is not None:
            absent[key] = _Absent(found.booking_reference, found.guest_name, found.check_in)
    return absent


def _renamed_uids(
    parsed: ParsedCalendar,
    zone: ZoneInfo,
    new_uids: Collection[str],
    absent: Mapping[str, _Absent],
) -> dict[str, str]:
    """New UIDs that are a known booking under a UID the channel regenerated: UID -> its key.

    Channels regenerate an event's UID when a stay is changed (extended, shortened). Taken
    as new, the booking got a second code and, two fetches later, lost the one its guest
    holds, mid-stay perhaps. A new UID is the booking whose UID left the calendar when both
    carry the same booking reference (Airbnb's HM code, a PMS number), or, without one, the
    same guest name and check-in day. Only a match that is one to one counts.
    """
    if not absent:
        return {}
    claims: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for event in parsed.events:
        if event.uid and event.uid in new_uids:
            claims[_identity(event, zone, parsed.channel)].append(event.uid)
    holders: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key, booking in absent.items():
        if booking.booking_reference:
            holders[("reference", booking.booking_reference)].append(key)
        if booking.guest_name:
            holders[("guest", booking.guest_name, booking.check_in.isoformat())].append(key)
    renamed: dict[str, str] = {}
    for identity, uids in claims.items():
        keys = holders.get(identity, [])
        if identity and len(set(uids)) == 1 and len(keys) == 1:
            renamed[uids[0]] = keys[0]
    return renamed


def _identity(event: FeedEvent, zone: ZoneInfo, channel: Channel) -> tuple[str, ...]:
    """What names a booking apart from its UID; empty when nothing does (a channel's label)."""
    if event.booking_reference:
        return ("reference", event.booking_reference)
    if not event.guest_name or channel is Channel.BOOKING:
        return ()
    name = _stored_name(_holder_name(event, channel))
    return ("guest", name, _local(event.start, zone)[0].isoformat())


def _holder_name(event: FeedEvent, channel: Channel) -> str:
    """The grant holder's name: the guest's, else the channel's label, with the phone digits."""
    name = event.guest_name or GUEST_LABELS.get(channel, "Guest")
    if event.phone_last4:
        name = f"{name} (phone …{event.phone_last4})"
    return name


def _stored_name(name: str) -> str:
    """``name`` as a reservation keeps it, and its grant's holder: cut to a name's length.

    ``_identity`` compares a new UID's name with the one an earlier sync stored through
    ``_place``; both cut here, so a long name still finds its booking.
    """
    return name[:MAX_NAME_LENGTH]


def _plain_holder(
    uid: str,
    events: Sequence[FeedEvent],
    remembered: Mapping[str, Remembered],
    ends: Mapping[str, datetime],
    zone: ZoneInfo,
) -> int | None:
    """Which of a UID's events (by position) is known by the bare UID."""
    known_end = ends.get(uid) if uid in remembered else None
    if known_end is not None and len(events) > 1:
        day = known_end.astimezone(zone).date()
        for position, event in enumerate(events):
            if _local(event.end, zone)[0] == day:
                return position
    for position, event in enumerate(events):
        if _dated_key(event) not in remembered:
            return position
    return None


def _dated_key(event: FeedEvent) -> str:
    return f"{event.uid}#{_day(event.start).isoformat()}"


def _place(
    event: FeedEvent, key: str, target: _Target, channel: Channel, tally: _Tally
) -> _Booking | None:
    """The booking at the property's wall clock, or None (noted) if it cannot be a stay."""
    check_in, check_in_at = _local(event.start, target.zone)
    check_out, check_out_at = _local(event.end, target.zone)
    try:
        stay = Stay(check_in, check_out, check_in_at, check_out_at)
        window = stay.window(target.zone, target.check_in, target.check_out)
    except DomainError as err:
        tally.skipped.append(f"{key}: {err}")
        return None
    name = _holder_name(event, channel)
    details = ReservationDetails(
        source=f"ical:{target.feed_id}",
        external_id=key[:200],
        property_ref=target.property_id,
        status=ReservationStatus.CONFIRMED,
        stay=stay,
        guest=Guest(name=_stored_name(name)),
        booking_reference=event.booking_reference,
    )
    content: list[object] = [check_in, check_out, check_in_at, check_out_at, name]
    if event.booking_reference:  # only when there is one: earlier digests stay valid
        content.append(event.booking_reference)
    fingerprint = hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()
    return _Booking(key, details, window, fingerprint, event.reservation_url)


def _local(moment: date | datetime, zone: ZoneInfo) -> tuple[date, time | None]:
    """A feed's date or time as a local date (and time) at the property."""
    if not isinstance(moment, datetime):
        return moment, None
    local = moment.astimezone(zone) if moment.tzinfo is not None else moment
    return local.date(), local.time().replace(tzinfo=None)


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _record(
    uow: UnitOfWork,
    caller: Caller,
    target: _Target,
    booking: _Booking,
    known: Remembered | None,
    tally: _Tally,
) -> None:
    details = booking.details
    if known is not None and known.over:
        # The UID's stay is over and it comes back with other dates: a new booking.
        suffix = f"#{details.stay.check_in.isoformat()}"
        details = replace(details, external_id=details.external_id[: 200 - len(suffix)] + suffix)
    try:
        with uow:
            outcome = apply_reservation(uow, caller, details)
            entry = uow.feeds.entry(target.feed_id, booking.key)
            if entry is None:
                entry = FeedEntry(feed_id=target.feed_id, key=booking.key)
                uow.feeds.add_entry(entry)
            entry.external_id = details.external_id
            entry.reservation_id = outcome.reservation.id
            entry.fingerprint = booking.fingerprint
            entry.ends_at = booking.window.ends_at
            entry.missing, entry.cancelled = 0, False
            entry.reservation_url = booking.reservation_url
            uow.commit()
    except (DomainError, NotFound) as err:
        reason = "no free code for these dates" if isinstance(err, CodeSpaceExhausted) else err
        tally.skipped.append(f"{booking.key}: {reason}")
        return
    if known is None or known.over:
        tally.created += 1
    else:
        tally.updated += 1


def _cancel(
    uow: UnitOfWork, caller: Caller, target: _Target, key: str, reason: str, tally: _Tally
) -> None:
    with uow:
        entry = uow.feeds.entry(target.feed_id, key)
        if entry is None:
            return
        reservation = uow.reservations.get(caller.organisation_id, entry.reservation_id)
        if reservation is None:
            return
        if apply_cancellation(uow, caller, reservation, reason):
            tally.cancelled += 1
        entry.cancelled, entry.missing = True, 0
        uow.commit()


def _finish(
    uow: UnitOfWork,
    caller: Caller,
    target: _Target,
    fetched: _Fetched,
    report: SyncReport,
    diff: FeedDiff,
) -> None:
    """Remember misses, forget finished stays, and note how the poll went on the feed."""
    with uow:
        feed = uow.feeds.get(caller.organisation_id, target.feed_id)
        if feed is None:
            return
        entries = uow.feeds.entries(target.feed_id)
        # An operator's sync may run beside the poller's and have forgotten a key already.
        for key, missing in [*diff.missed.items(), *((key, 0) for key in diff.reset)]:
            if key in entries:
                entries[key].missing = missing
        uow.feeds.forget(target.feed_id, diff.forget)
        feed.last_attempt_at = target.now
        feed.last_outcome = report.outcome.value
        feed.last_message = report.message[:500]
        subject = (SUBJECT, feed.id)
        if fetched.outcome.is_healthy:
            feed.last_success_at = target.now
            feed.failures = 0
            clear_alert(uow, caller.organisation_id, FEED_ALERT, subject)
            if fetched.outcome is FetchOutcome.OK:
                feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
                feed.content_hash = fetched.content_hash
                feed.last_read_at = target.now
        else:
            feed.failures += 1
            label = feed.name or feed.url_hint
            raise_alert(
                uow,
                caller.organisation_id,
                FEED_ALERT,
                subject,
                f"calendar feed {label} of {feed.property.name} failed ({report.outcome.value}: "
                f"{report.message}); its bookings are not being updated",
            )
        uow.commit()
    _log(report)


def _missing_stays(uow: UnitOfWork, caller: Caller, target: _Target, diff: FeedDiff) -> str:
    """Which bookings the calendar no longer shows, so an operator can check them in time."""
    stays = []
    with uow:
        for key in sorted(diff.missed):
            entry = uow.feeds.entry(target.feed_id, key)
            found = entry and uow.reservations.get(caller.organisation_id, entry.reservation_id)
            if found:
                stays.append(
                    f"{found.guest_name or 'a guest'} {found.check_in}–{found.check_out} "
                    f"({found.id})"
                )
    return "; ".join(stays)


def _summary(tally: _Tally, diff: FeedDiff, readable: bool, missing: str = "") -> str:
    parts = [] if readable else ["no readable booking, so nobody counted missing"]
    parts += [
        f"{tally.created} new",
        f"{tally.updated} changed",
        f"{tally.cancelled} cancelled",
        f"{len(diff.missed)} missing once" + (f" ({missing})" if missing else ""),
    ]
    if tally.skipped:
        parts.append(f"{len(tally.skipped)} skipped (first: {tally.skipped[0]})")
    return ", ".join(parts)


def _http_url(url: str) -> str:
    """Channels hand out ``webcal://`` links too; they are plain HTTPS."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    if not is_web_url(url):
        raise InvalidRequest("a feed URL must be an http, https or webcal URL")
    return url


def _log(report: SyncReport) -> None:
    logger.info("feed %s: %s; %s", report.feed_id, report.outcome.value, report.message)
