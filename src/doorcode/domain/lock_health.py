"""Rules about lock health and arrivals: what is worth an alert, and how to say when.

Pure: the caller brings the clock and the zone. A lock's health matters by what is at
stake, so every problem is phrased with the next arrival on the lock ("next guest arrives
tomorrow 15:00") and ranked by how soon that arrival is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.windows import Edge, local_instant

__all__ = [
    "HealthProblem",
    "HealthReading",
    "health_problems",
    "is_worth_a_sample",
    "no_show_deadline",
    "when_phrase",
]

SAMPLE_EVERY = timedelta(hours=1)


class HealthProblem(enum.StrEnum):
    """Why a lock needs a person; also the kind of the alert it raises."""

    OFFLINE = "LockOffline"
    BATTERY_LOW = "LockBatteryLow"


@dataclass(frozen=True, slots=True)
class HealthReading:
    """One reading of a lock's health (None where the back-end does not say)."""

    online: bool | None
    battery_percent: int | None
    observed_at: datetime


def health_problems(reading: HealthReading, battery_threshold: int) -> set[HealthProblem]:
    """The problems a reading shows; an unknown value is never a problem."""
    problems = set()
    if reading.online is False:
        problems.add(HealthProblem.OFFLINE)
    if reading.battery_percent is not None and reading.battery_percent < battery_threshold:
        problems.add(HealthProblem.BATTERY_LOW)
    return problems


def is_worth_a_sample(previous: HealthReading | None, reading: HealthReading) -> bool:
    """Keep a reading when it differs from the last one kept, or an hour has gone by.

    Polling every minute would otherwise store 1,440 identical rows a day per lock.
    """
    if previous is None:
        return True
    changed = (previous.online, previous.battery_percent) != (
        reading.online,
        reading.battery_percent,
    )
    return changed or reading.observed_at - previous.observed_at >= SAMPLE_EVERY


def no_show_deadline(check_in: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) after which a guest who has not opened the door is a no-show."""
    return local_instant(check_in, at, zone, Edge.START)


def when_phrase(instant: datetime, now: datetime, zone: ZoneInfo) -> str:
    """'today 15:00', 'tomorrow 15:00' or 'Sat 12 Dec 15:00', on the property's clock."""
    local, today = instant.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"today {clock}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow {clock}"
    return local.strftime("%a %d %b %H:%M")
