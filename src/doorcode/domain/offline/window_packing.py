"""Issuable windows, numbered without gaps: the plaintext an offline code encrypts.

A lock can only honour windows it can read back out of a code, so the service issues only
*issuable* windows, measured in whole seconds after the key group's epoch:

* **hourly**: starts on an hour after the epoch, lasts 1 to 768 hours (32 days);
* **daily**: starts on a day after the epoch, lasts 33 to 365 days.

Starts lie in the first ``HORIZON_DAYS`` days after the epoch. Numbering hourly windows first
and daily ones after them is a bijection between issuable windows and ``[0, WINDOW_COUNT)``::

    index = start_hour * 768 + (hours - 1)                            hourly
    index = HOURLY_WINDOWS + start_day * 333 + (days - 33)            daily

No integer is wasted and no window has two numbers, so WINDOW_COUNT is the least the two
resolutions allow for this horizon. The two classes cannot meet: a daily window lasts at least
792 hours. WINDOW_COUNT = 96,076,800 is below 10**8, so one horizon serves every code length
from 8 to 12 digits.

Rounding a requested window (:func:`cover`) only ever widens it: start down, end up, on the
hour grid when that gives 32 days or less, otherwise on the day grid. The result is the
smallest issuable window that covers the request: every issuable window that covers the
request also covers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from doorcode.domain.offline.errors import OfflineWindowUnsupported
from doorcode.domain.windows import TimeWindow

__all__ = [
    "DAILY_WINDOWS",
    "DAY",
    "HORIZON_DAYS",
    "HORIZON_HOURS",
    "HOUR",
    "HOURLY_WINDOWS",
    "MAX_DAYS",
    "MAX_HOURS",
    "MIN_DAYS",
    "WINDOW_COUNT",
    "Span",
    "cover",
    "issuable_cover",
    "pack",
    "seconds_after",
    "span_of",
    "unpack",
    "window_of",
]

HOUR = 3_600
DAY = 86_400
MAX_HOURS = 768  # 32 days at hour resolution
MIN_DAYS = 33
MAX_DAYS = 365
DAILY_DURATIONS = MAX_DAYS - MIN_DAYS + 1  # 333
HORIZON_DAYS = 5_120  # about 14 years of starts after the epoch
HORIZON_HOURS = HORIZON_DAYS * 24
HOURLY_WINDOWS = HORIZON_HOURS * MAX_HOURS  # 94,371,840
DAILY_WINDOWS = HORIZON_DAYS * DAILY_DURATIONS  # 1,704,960
WINDOW_COUNT = HOURLY_WINDOWS + DAILY_WINDOWS  # 96,076,800: the P of the specification


class Span(NamedTuple):
    """A window as whole seconds after a key group's epoch, ``[start, end)``."""

    start: int
    end: int


def pack(span: Span) -> int:
    """The number of an issuable window; raises for a window no code can carry."""
    start, end = span
    duration = end - start
    if start % HOUR == 0 and duration % HOUR == 0 and 1 <= duration // HOUR <= MAX_HOURS:
        _check_start(start // HOUR, HORIZON_HOURS)
        return start // HOUR * MAX_HOURS + duration // HOUR - 1
    if start % DAY == 0 and duration % DAY == 0 and MIN_DAYS <= duration // DAY <= MAX_DAYS:
        _check_start(start // DAY, HORIZON_DAYS)
        return HOURLY_WINDOWS + start // DAY * DAILY_DURATIONS + duration // DAY - MIN_DAYS
    raise OfflineWindowUnsupported("not an issuable window: wrong grid or length")


def unpack(index: int) -> Span:
    """The issuable window numbered ``index``; raises ValueError outside ``[0, P)``."""
    if 0 <= index < HOURLY_WINDOWS:
        start_hour, extra_hours = divmod(index, MAX_HOURS)
        return Span(start_hour * HOUR, (start_hour + extra_hours + 1) * HOUR)
    if HOURLY_WINDOWS <= index < WINDOW_COUNT:
        start_day, extra_days = divmod(index - HOURLY_WINDOWS, DAILY_DURATIONS)
        return Span(start_day * DAY, (start_day + extra_days + MIN_DAYS) * DAY)
    raise ValueError("window number out of range")


def cover(start: int, end: int) -> Span:
    """The smallest issuable window containing ``[start, end)`` seconds after the epoch."""
    if end <= start:
        raise OfflineWindowUnsupported("a window must end after it starts")
    hourly = Span(_floor(start, HOUR), _ceil(end, HOUR))
    if hourly.end - hourly.start <= MAX_HOURS * HOUR:
        span = hourly
    else:
        span = Span(_floor(start, DAY), _ceil(end, DAY))
    if span.end - span.start > MAX_DAYS * DAY:
        raise OfflineWindowUnsupported("offline codes last at most 365 days")
    pack(span)  # raises when the start is before the epoch or past the horizon
    return span


def seconds_after(epoch: datetime, instant: datetime) -> int:
    """Whole seconds from ``epoch`` to ``instant``, rounded down (the lock's clock reading)."""
    return (instant - epoch) // timedelta(seconds=1)


def span_of(window: TimeWindow, epoch: datetime) -> Span:
    """``window`` in seconds after ``epoch``, widened to whole seconds."""
    start = seconds_after(epoch, window.starts_at)
    end = -((epoch - window.ends_at) // timedelta(seconds=1))
    return Span(start, end)


def window_of(span: Span, epoch: datetime) -> TimeWindow:
    """The UTC window a span means for a group whose epoch is ``epoch``."""
    return TimeWindow(epoch + timedelta(seconds=span.start), epoch + timedelta(seconds=span.end))


def issuable_cover(requested: TimeWindow, epoch: datetime) -> TimeWindow:
    """The smallest issuable window that covers ``requested``, as UTC instants."""
    return window_of(cover(*span_of(requested, epoch)), epoch)


def _check_start(start: int, limit: int) -> None:
    if start < 0:
        raise OfflineWindowUnsupported("offline codes cannot start before the group's epoch")
    if start >= limit:
        raise OfflineWindowUnsupported("offline codes must start within the group's horizon")


def _floor(seconds: int, step: int) -> int:
    return seconds // step * step


def _ceil(seconds: int, step: int) -> int:
    return -(-seconds // step) * step
