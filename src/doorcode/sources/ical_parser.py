"""Reading booking-channel calendars (iCal, RFC 5545): bytes in, bookings and blocks out.

No I/O and no property knowledge: times stay as the feed gave them (a ``date`` for all-day
events, an aware ``datetime`` for zoned or UTC times, a naive one for floating times) and the
feed service places them at the property. One exception: an event from 00:00 to 00:00 (in its
own zone, UTC or floating) is an all-day event written as times, and is read as its dates.

What each channel puts in its export:

* **Airbnb** (``PRODID:-//Airbnb Inc//Hosting Calendar …``, UIDs ``…@airbnb.com``): all-day
  events; ``SUMMARY:Reserved`` is a booking, whose ``DESCRIPTION`` carries a
  ``Reservation URL:`` line and a ``Phone Number (Last 4 Digits):`` line;
  ``Airbnb (Not available)`` is a date the host blocked.
* **VRBO** (``PRODID`` naming HomeAway or VRBO): ``Reserved - <guest>`` is a booking,
  ``Blocked`` a block.
* **Booking.com**: every event reads ``CLOSED - Not available``, bookings and closed dates
  alike, so every event is taken as a booking (export reservations only, in the extranet's
  export options, to keep closures out). A code nobody uses costs little; a guest without
  one is locked out.
* **Anything else** (a PMS): the summary is the guest's name, unless it reads like a block
  ("Not available", "Blocked", "Unavailable", "Closed").

``STATUS:CANCELLED`` marks an event cancelled on any channel. Events that cannot be a stay
are skipped with a reason instead of failing the calendar: recurring events (``RRULE`` or
``RECURRENCE-ID``; a booking never repeats), no start, an end before the start, a zone the
tz database does not know, a date outside the years doorcode accepts (``domain.windows``), a
``UID``, start, end or duration given twice, or anything else the event's text makes
impossible to read: one hostile event never stops the others. A body that is not a calendar
at all raises ``CalendarUnreadable``; nothing else ever leaves this module.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar

from doorcode.domain.errors import InstantOutOfRange
from doorcode.domain.windows import check_day

__all__ = [
    "CalendarUnreadable",
    "Channel",
    "EventKind",
    "FeedEvent",
    "ParsedCalendar",
    "SkippedEvent",
    "detect_channel",
    "parse_calendar",
]

BLOCK_WORDS = ("not available", "blocked", "unavailable", "closed")
RESERVATION_URL = re.compile(r"Reservation URL:\s*(\S+)", re.IGNORECASE)
AIRBNB_CODE = re.compile(r"\b(HM[A-Z0-9]{8})\b")
"""Airbnb's confirmation code, as its reservation URL and its guests' e-mails show it."""
PMS_NUMBER = re.compile(
    r"\b(?:reservation|booking|confirmation)\s*(?:number|no\.?|id|code|#)\s*[:#]?\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]{2,39})\b",
    re.IGNORECASE,
)
"""A PMS's own number: "Reservation #4711", "Booking ID: B-2231", "Confirmation code: X9"."""
PHONE_LAST4 = re.compile(r"Phone Number \(Last 4 Digits\):\s*(\d{4})", re.IGNORECASE)
MAX_TEXT = 200
_SINGLE = ("UID", "DTSTART", "DTEND", "DURATION")
"""Properties an event may carry once; a second copy makes the event ambiguous."""
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)
"""What icalendar (or date arithmetic) raises on text it cannot make sense of."""


class Channel(enum.StrEnum):
    """Who exported the calendar; ``auto`` guesses from PRODID and UIDs."""

    AUTO = "auto"
    AIRBNB = "airbnb"
    VRBO = "vrbo"
    BOOKING = "booking"
    GENERIC = "generic"


class EventKind(enum.StrEnum):
    """What an event means for the property."""

    BOOKING = "booking"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class CalendarUnreadable(Exception):
    """The body is not an iCalendar document."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of a calendar, as the channel described it."""

    uid: str | None
    kind: EventKind
    start: date | datetime
    end: date | datetime
    summary: str = ""
    guest_name: str = ""
    phone_last4: str | None = None
    reservation_url: str | None = None
    booking_reference: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """An event that could not be read as a stay, and why."""

    uid: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedCalendar:
    """Everything a calendar said."""

    channel: Channel
    events: tuple[FeedEvent, ...]
    skipped: tuple[SkippedEvent, ...]

    @property
    def is_empty(self) -> bool:
        """No events at all: never taken as "every booking is gone"."""
        return not self.events and not self.skipped


def parse_calendar(data: bytes, channel: Channel = Channel.AUTO) -> ParsedCalendar:
    """The events of a calendar; an empty body is an empty calendar, garbage is unreadable."""
    if not data.strip():
        return ParsedCalendar(Channel.GENERIC if channel is Channel.AUTO else channel, (), ())
    try:
        calendar = icalendar.Calendar.from_ical(_text_of(data))
        components = list(calendar.walk("VEVENT"))
    except (*_UNREADABLE, RecursionError) as err:
        raise CalendarUnreadable("the body is not an iCalendar document") from err
    if channel is Channel.AUTO:
        channel = detect_channel(str(calendar.get("PRODID", "")), components)
    events: list[FeedEvent] = []
    skipped: list[SkippedEvent] = []
    for component in components:
        read = _read_safely(component, channel)
        if isinstance(read, FeedEvent):
            events.append(read)
        else:
            skipped.append(read)
    return ParsedCalendar(channel, tuple(events), tuple(skipped))


def _text_of(data: bytes) -> str:
    """The body as text: UTF-8 as RFC 5545 says (a byte-order mark dropped), else
    Windows-1252, which older PMS exports write (read as UTF-8, Zoë was greeted as Zo\ufffd)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def detect_channel(prodid: str, components: list[Any]) -> Channel:
    """The channel a calendar comes from, by its PRODID or its first UID."""
    marker = prodid.lower()
    if not marker and components:
        marker = str(components[0].get("UID", "")).lower()
    if "airbnb" in marker:
        return Channel.AIRBNB
    if "homeaway" in marker or "vrbo" in marker:
        return Channel.VRBO
    if "booking.com" in marker:
        return Channel.BOOKING
    return Channel.GENERIC


def _read_safely(component: Any, channel: Channel) -> FeedEvent | SkippedEvent:
    """The event, or why it was skipped: nothing an event says may fail the calendar."""
    try:
        return _read_event(component, channel)
    except _UNREADABLE:
        return SkippedEvent(_first_uid(component), "the event cannot be read")


def _first_uid(component: Any) -> str | None:
    """The event's UID (its first, if it names several): a skipped event still shows it."""
    try:
        value = component.get("UID")
        if isinstance(value, list):
            value = value[0] if value else None
        return _text(value) or None
    except _UNREADABLE:
        return None


def _read_event(component: Any, channel: Channel) -> FeedEvent | SkippedEvent:
    uid = _first_uid(component)
    doubled = [name for name in _SINGLE if isinstance(component.get(name), list)]
    if doubled:
        return SkippedEvent(uid, f"{doubled[0]} appears twice in one event; skipped")
    if component.get("RRULE") is not None or component.get("RECURRENCE-ID") is not None:
        return SkippedEvent(uid, "a recurring event (RRULE): a booking never repeats; skipped")
    start = _moment(component, "DTSTART")
    if isinstance(start, str):
        return SkippedEvent(uid, start)
    end = _end(component, start)
    if isinstance(end, str):
        return SkippedEvent(uid, end)
    if not _ends_after_start(start, end):
        return SkippedEvent(uid, "the event does not end after it starts")
    start, end = _dates_if_midnights(start, end)
    try:
        check_day("DTSTART", _day(start))
        check_day("the end", _day(end))
    except InstantOutOfRange as err:
        return SkippedEvent(uid, str(err))
    summary = _text(component.get("SUMMARY"))
    description = _text(component.get("DESCRIPTION"), limit=2000)
    kind, guest = _classify(summary, channel)
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        kind = EventKind.CANCELLED
    url = RESERVATION_URL.search(description)
    phone = PHONE_LAST4.search(description)
    return FeedEvent(
        uid=uid,
        kind=kind,
        start=start,
        end=end,
        summary=summary,
        guest_name=guest,
        phone_last4=phone.group(1) if phone else None,
        reservation_url=url.group(1)[:500] if url else None,
        booking_reference=_booking_reference(summary, description),
    )


def _moment(component: Any, name: str) -> date | datetime | str:
    """A date or date-time property, or the reason it cannot be read."""
    prop = component.get(name)
    if prop is None:
        return f"no {name}"
    try:
        value = component.decoded(name)
    except (ValueError, TypeError, KeyError):
        return f"{name} is not a date"
    if not isinstance(value, date):
        return f"{name} is not a date"
    if isinstance(value, datetime) and value.tzinfo is None and prop.params.get("TZID"):
        return f"{name} names a time zone doorcode does not know"
    return value


def _end(component: Any, start: date | datetime) -> date | datetime | str:
    if component.get("DTEND") is not None:
        return _moment(component, "DTEND")
    if component.get("DURATION") is not None:
        try:
            duration = component.decoded("DURATION")
        except (ValueError, TypeError):
            return "DURATION is not a duration"
        if not isinstance(duration, timedelta):
            return "DURATION is not a duration"
        return _later(start, duration)
    if not isinstance(start, datetime):
        return _later(start, timedelta(days=1))
    return "no DTEND or DURATION"


def _later(start: date | datetime, duration: timedelta) -> date | datetime | str:
    """``start + duration``, or the reason when that lies beyond any calendar."""
    try:
        return start + duration
    except OverflowError:
        return "the event ends after the years doorcode accepts"


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _dates_if_midnights(
    start: date | datetime, end: date | datetime
) -> tuple[date | datetime, date | datetime]:
    """An event from midnight to midnight as its days: an all-day stay written as times.

    Google Calendar and many PMS exports write a day-long booking as 00:00 to 00:00 (in a
    zone, in UTC or floating). Read as times it would open the door at midnight of the
    arrival day and lock the guest out at midnight before departure, or, at UTC midnights,
    move the stay a day at a property west of Greenwich. The days the exporter wrote, with
    the property's own check-in and check-out times, are what the booking means.
    """
    if isinstance(start, datetime) and isinstance(end, datetime):
        days = start.date(), end.date()
        if start.time() == end.time() == time(0) and days[1] > days[0]:
            return days
    return start, end


def _ends_after_start(start: date | datetime, end: date | datetime) -> bool:
    """Whether the two are alike (both dates, or both zoned or floating times) and in order."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        return (start.tzinfo is None) == (end.tzinfo is None) and end > start
    if isinstance(start, datetime) or isinstance(end, datetime):
        return False
    return end > start


def _classify(summary: str, channel: Channel) -> tuple[EventKind, str]:
    """Booking or block, and the guest's name when the summary carries one."""
    lowered = summary.lower()
    if channel is Channel.BOOKING:
        return EventKind.BOOKING, "Booking.com guest"
    if channel is Channel.AIRBNB:
        if "not available" in lowered or "blocked" in lowered:
            return EventKind.BLOCKED, ""
        return EventKind.BOOKING, ""
    if channel is Channel.VRBO:
        if lowered.startswith("blocked"):
            return EventKind.BLOCKED, ""
        _, _, name = summary.partition(" - ")
        return EventKind.BOOKING, name.strip()
    if any(word in lowered for word in BLOCK_WORDS):
        return EventKind.BLOCKED, ""
    return EventKind.BOOKING, summary


def _booking_reference(summary: str, description: str) -> str | None:
    """The channel's code (Airbnb's HM…) or a PMS's number, from the event's own words."""
    for text in (description, summary):
        found = AIRBNB_CODE.search(text) or PMS_NUMBER.search(text)
        if found:
            return found.group(1)
    return None


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    """The value as text, without NUL (PostgreSQL refuses it in text: the whole feed would
    fail to record), trimmed and cut to ``limit``."""
    return str(value).replace("\x00", "").strip()[:limit] if value is not None else ""
