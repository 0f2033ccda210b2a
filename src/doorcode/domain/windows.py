"""Time windows in UTC, and how a local wall-clock time becomes one instant.

Every window doorcode stores is a half-open interval ``[starts_at, ends_at)`` of aware UTC
datetimes. Guests and hosts speak in local dates and times at the property, so the one
translation from "15:00 on 29 March in Europe/London" to an instant lives here, including the
two hours a year when that question has no single answer:

* a local time inside a spring-forward gap (02:30 on a night the clocks jump from 02:00 to
  03:00) does not exist: it moves **forward to the first valid instant**, the moment the clocks
  jump (03:00 local), for starts and ends alike;
* a local time inside a fall-back fold (01:30 on a night that passes 01:30 twice) is ambiguous:
  a start takes the **earlier** instant and an end the **later** one, so the window only ever
  grows to cover what the host meant, never shrinks.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorcode.domain.errors import InstantOutOfRange, InvalidWindow, UnknownTimeZone

__all__ = [
    "EARLIEST",
    "FIRST_DAY",
    "LAST_DAY",
    "LATEST",
    "Edge",
    "TimeWindow",
    "check_day",
    "check_instant",
    "is_skipped",
    "local_instant",
    "stay_window",
    "to_local",
    "vendor_code_answers",
    "vendor_code_fits",
    "vendor_issue_window",
    "zone_named",
]

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""The one range of instants doorcode accepts, anywhere: every window lies inside it.

Far enough from ``datetime.min`` and ``datetime.max`` that a lead time, a time zone or a
lock's rounding to the minute can never overflow, and wide enough for any real stay."""

FIRST_DAY = date(2000, 1, 2)
LAST_DAY = date(2199, 12, 30)
"""Local dates (check-in, check-out) lie a day inside that range: a zone is at most 14 h off."""


def check_instant(field: str, instant: datetime) -> datetime:
    """``instant`` in UTC, or ``InstantOutOfRange`` naming ``field`` if it lies outside."""
    try:
        in_utc = instant.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise InstantOutOfRange(field, f"{field} must lie between {_years()}")
    return in_utc


def check_day(field: str, day: date) -> date:
    """``day``, or ``InstantOutOfRange`` naming ``field`` if it lies outside the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InstantOutOfRange(field, f"{field} must lie between {_years()}")
    return day


def _years() -> str:
    return f"{FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open interval ``[starts_at, ends_at)`` of aware instants, normalised to UTC."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise InvalidWindow("window bounds must be timezone-aware")
        object.__setattr__(self, "starts_at", check_instant("starts_at", self.starts_at))
        object.__setattr__(self, "ends_at", check_instant("ends_at", self.ends_at))
        if self.ends_at <= self.starts_at:
            raise InvalidWindow("a window must end after it starts")

    @property
    def duration(self) -> timedelta:
        """How long the window lasts."""
        return self.ends_at - self.starts_at

    def overlaps(self, other: TimeWindow) -> bool:
        """Whether the two windows share at least one instant."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def contains(self, instant: datetime) -> bool:
        """Whether ``instant`` lies inside the window (start included, end excluded)."""
        return self.starts_at <= instant < self.ends_at

    def covers(self, other: TimeWindow) -> bool:
        """Whether every instant of ``other`` lies inside this window."""
        return self.starts_at <= other.starts_at and other.ends_at <= self.ends_at

    def extended_before(self, lead: timedelta) -> TimeWindow:
        """The window that opens ``lead`` earlier: when a code must already sit on a lock."""
        return self.widened(lead, timedelta(0))

    def widened(self, before: timedelta, after: timedelta) -> TimeWindow:
        """The window with margins on both sides, kept inside the accepted range."""
        return TimeWindow(max(EARLIEST, self.starts_at - before), min(LATEST, self.ends_at + after))


class Edge(enum.Enum):
    """Which end of a window a local time is for; it decides how a fold is resolved."""

    START = "start"
    END = "end"


def local_instant(day: date, at: time, zone: ZoneInfo, edge: Edge) -> datetime:
    """The UTC instant that local ``day`` at ``at`` in ``zone`` means, for a window's ``edge``."""
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    earlier, later = min(first, second), max(first, second)
    if _reads_as(earlier, zone) == wall:
        return earlier if edge is Edge.START else later
    return _first_instant_after_gap(earlier, later, zone)


def is_skipped(day: date, at: time, zone: ZoneInfo) -> bool:
    """Whether local ``day`` at ``at`` never shows on ``zone``'s clocks (a spring-forward gap)."""
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    return _reads_as(wall.replace(tzinfo=zone, fold=0).astimezone(UTC), zone) != wall


def stay_window(
    check_in: date, check_in_at: time, check_out: date, check_out_at: time, zone: ZoneInfo
) -> TimeWindow:
    """The window of a stay: check-in to check-out at the property's wall clock."""
    starts_at = local_instant(check_in, check_in_at, zone, Edge.START)
    ends_at = local_instant(check_out, check_out_at, zone, Edge.END)
    if ends_at <= starts_at:
        raise InvalidWindow("check-out must be after check-in")
    return TimeWindow(starts_at, ends_at)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` on the wall clock of ``zone``, for showing to people."""
    return instant.astimezone(zone)


def _reads_as(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _first_instant_after_gap(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump, found between two readings that straddle the gap.

    ``low`` still carries the offset in force before the jump and ``high`` the one after it,
    so the transition lies in ``(low, high]``; bisecting whole seconds finds it without
    reaching into the time-zone database's internals (transitions fall on whole seconds).
    """
    offset_before = low.astimezone(zone).utcoffset()
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            lo = middle
        else:
            hi = middle
    return datetime.fromtimestamp(hi, UTC)


def zone_named(name: str) -> ZoneInfo:
    """The time zone called ``name`` in the pinned tz database."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise UnknownTimeZone(f"unknown time zone {name!r}") from err


_HOUR = timedelta(hours=1)


def vendor_issue_window(stay: TimeWindow, now: datetime) -> TimeWindow:
    """The hours to ask a vendor's offline code for: from the stay's start, or from now.

    A vendor's offline code (TTLock period code, igloohome algoPIN) dies unless it is used
    within 24 h of its start; one for a stay already under way starts at the current whole
    hour, so the guest can still use it.
    """
    start = max(stay.starts_at, now).astimezone(UTC)
    return TimeWindow(start.replace(minute=0, second=0, microsecond=0), stay.ends_at)


def vendor_code_fits(issued: TimeWindow, stay: TimeWindow) -> bool:
    """Whether a vendor's whole-hour code opens exactly the stay, less an hour wider each end.

    Its start lies in the stay's first hour, or later: a code issued once the stay was under
    way starts at the hour it was issued (``vendor_issue_window``). A code starting before
    that hour opens the door before the stay; one ending after the stay's last hour, after.
    """
    opens = stay.starts_at - _HOUR < issued.starts_at < stay.ends_at
    return opens and issued.ends_at - _HOUR < stay.ends_at <= issued.ends_at


def vendor_code_answers(issued: TimeWindow, wanted: TimeWindow, now: datetime) -> bool:
    """Whether a code issued earlier under the same name answers a request for ``wanted``.

    Its start lies in ``wanted``'s first hour and its end in its last. A request for a stay
    under way starts at the current hour, so a code asked for in the hour before, whose
    answer was lost, answers too (it is still young enough to be used).
    """
    slack = 2 * _HOUR if wanted.starts_at <= now else _HOUR
    opens = wanted.starts_at - slack < issued.starts_at <= wanted.starts_at
    return opens and issued.ends_at - _HOUR < wanted.ends_at <= issued.ends_at
