"""Recurring staff codes: one schedule, its windows as staff grants on each property's clock.

"The cleaner, every Tuesday 10:00-14:00 at Flat 1A and 2B" is one ``StaffSchedule``. Its
days come from python-dateutil's ``rrule`` (weekly on chosen weekdays, or daily), less the
days off; each day's window is read on each property's own wall clock, so 10:00 stays
10:00 on site across a daylight-saving change. Every window becomes a staff grant on the
property's lock group, tied to the schedule; all of a property's windows carry the same
code when it is free, so the cleaner keeps one code. Changing the schedule keeps the
windows that stay, revokes those that go and opens the new ones; revoking it revokes every
window not over yet. A schedule has a last day (at most ``MAX_DAYS`` after its first), so
every window exists as a grant from the start and nothing must roll a horizon forward.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, WEEKLY, rrule, weekday

from doorcode.domain.errors import CodeClash
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import Edge, TimeWindow, is_skipped, local_instant, zone_named
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.grants import GrantTarget, move_grant, open_grant, revoke
from doorcode.services.naming import check_name_length
from doorcode.store.models import Grant, Property, StaffSchedule
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "MAX_DAYS",
    "WEEKDAY_NAMES",
    "Frequency",
    "ScheduleDetails",
    "ScheduleView",
    "change_schedule",
    "clock_notes",
    "create_schedule",
    "dated_windows",
    "days_of",
    "details_of",
    "follow_zone_change",
    "get_schedule",
    "list_schedules",
    "revoke_schedule",
    "summary_of",
    "windows_of",
]

SCHEDULE_CHANGED = "the schedule changed"
"""Why the schedule itself revoked a window; any other reason is an operator's, and sticks."""

MAX_DAYS = 366
SUBJECT = "schedule"
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Frequency(enum.StrEnum):
    """How often the schedule repeats."""

    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class ScheduleDetails:
    """A schedule as the operator says it; times are local to each property."""

    holder: str
    property_refs: tuple[str, ...]
    frequency: Frequency
    starts: time
    ends: time
    first_day: date
    last_day: date
    weekdays: frozenset[int] = frozenset()  # 0 = Monday; weekly schedules only
    except_days: frozenset[date] = field(default_factory=frozenset)

    def check(self) -> None:
        """Refuse what cannot be a schedule, with the reason in words."""
        if not self.holder.strip():
            raise InvalidRequest("say who the schedule is for")
        check_name_length("the holder", self.holder)
        if not self.property_refs:
            raise InvalidRequest("choose at least one property")
        if self.last_day < self.first_day:
            raise InvalidRequest("the last day is before the first day")
        if (self.last_day - self.first_day).days > MAX_DAYS:
            raise InvalidRequest(f"a schedule spans at most {MAX_DAYS} days; renew it later")
        if self.frequency is Frequency.WEEKLY and not self.weekdays:
            raise InvalidRequest("a weekly schedule needs at least one weekday")
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise InvalidRequest("weekdays run from 0 (Monday) to 6 (Sunday)")
        if self.starts == self.ends:
            raise InvalidRequest("the window must not start and end at the same time")

    @property
    def summary(self) -> str:
        """``every Tue, 10:00-14:00`` or ``every day, 07:00-09:00``."""
        return summary_of(self.frequency, self.weekdays, self.starts, self.ends)


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule with its properties and its windows' grants, read in one transaction."""

    schedule: StaffSchedule
    details: ScheduleDetails
    property_names: tuple[str, ...]
    grants: tuple[Grant, ...]
    notes: tuple[str, ...] = ()
    """Windows a daylight-saving change moves (``Flat 1A, 2027-03-28: ...``), in words."""

    @property
    def live_grants(self) -> tuple[Grant, ...]:
        """Windows not revoked."""
        return tuple(grant for grant in self.grants if grant.revoked_at is None)


def summary_of(frequency: Frequency, weekdays: frozenset[int], starts: time, ends: time) -> str:
    """The recurrence in words."""
    days = (
        "every day"
        if frequency is Frequency.DAILY
        else "every " + ", ".join(WEEKDAY_NAMES[day] for day in sorted(weekdays))
    )
    overnight = " (next day)" if ends <= starts else ""
    return f"{days}, {starts:%H:%M}-{ends:%H:%M}{overnight}"


def days_of(details: ScheduleDetails) -> list[date]:
    """The local days the schedule covers: rrule's occurrences less the days off."""
    rule = rrule(
        DAILY if details.frequency is Frequency.DAILY else WEEKLY,
        dtstart=datetime.combine(details.first_day, time(0)),
        until=datetime.combine(details.last_day, time(0)),
        byweekday=(
            [weekday(day) for day in sorted(details.weekdays)]
            if details.frequency is Frequency.WEEKLY
            else None
        ),
    )
    return [moment.date() for moment in rule if moment.date() not in details.except_days]


def windows_of(details: ScheduleDetails, zone: ZoneInfo) -> list[TimeWindow]:
    """Each day's window on ``zone``'s wall clock, as UTC instants (correct across DST)."""
    return [window for _day, window in dated_windows(details, zone)]


def dated_windows(details: ScheduleDetails, zone: ZoneInfo) -> list[tuple[date, TimeWindow]]:
    """Each local day of the schedule with its window on ``zone``'s wall clock.

    A local time skipped by a spring-forward change becomes the instant the clocks jump; a
    window wholly inside the skipped hour starts then and keeps its usual length (only that
    day's window moves; ``clock_notes`` says so). An end at or before the start means the
    next morning (a night shift).
    """
    found = []
    for day in days_of(details):
        end_day = _end_day(details, day)
        starts = local_instant(day, details.starts, zone, Edge.START)
        ends = local_instant(end_day, details.ends, zone, Edge.END)
        if ends <= starts:
            wall_length = datetime.combine(end_day, details.ends) - datetime.combine(
                day, details.starts
            )
            ends = starts + wall_length
        found.append((day, TimeWindow(starts, ends)))
    return found


def clock_notes(details: ScheduleDetails, zone: ZoneInfo) -> list[str]:
    """The days whose window a spring-forward change moves, in words, for the operator."""
    notes = []
    for day in days_of(details):
        start_skipped = is_skipped(day, details.starts, zone)
        end_skipped = is_skipped(_end_day(details, day), details.ends, zone)
        if start_skipped and end_skipped:
            moved = "starts when the clocks jump and keeps its usual length"
        elif start_skipped:
            moved = "starts when the clocks jump"
        elif end_skipped:
            moved = "ends when the clocks jump"
        else:
            continue
        skipped = details.starts if start_skipped else details.ends
        notes.append(
            f"{day.isoformat()}: {skipped:%H:%M} does not exist on the clock "
            f"(it springs forward); that day's window {moved}"
        )
    return notes


def _end_day(details: ScheduleDetails, day: date) -> date:
    return day + timedelta(days=1) if details.ends <= details.starts else day


def create_schedule(uow: UnitOfWork, caller: Caller, details: ScheduleDetails) -> StaffSchedule:
    """Record the schedule and open a staff grant for each window not over yet."""
    caller.require_writer()
    details.check()
    with uow:
        places = _properties(uow, caller, details.property_refs)
        schedule = StaffSchedule(organisation_id=caller.organisation_id, created_at=uow.now)
        _apply(schedule, details, places, uow.now)
        uow.schedules.add(schedule)
        uow.flush()
        record_event(
            uow, caller, (SUBJECT, schedule.id), "ScheduleCreated", after=_snapshot(schedule)
        )
        _follow(uow, caller, schedule, details, places, [])
        uow.commit()
        return schedule


def change_schedule(
    uow: UnitOfWork, caller: Caller, schedule_id: str, details: ScheduleDetails
) -> StaffSchedule:
    """Change the schedule as one: windows that stay keep their grant and code, windows that
    go are revoked (unless over), new ones are opened."""
    caller.require_writer()
    details.check()
    with uow:
        schedule = _get(uow, caller, schedule_id)
        if schedule.revoked_at is not None:
            raise InvalidRequest("the schedule is revoked; make a new one")
        places = _properties(uow, caller, details.property_refs)
        before = _snapshot(schedule)
        _apply(schedule, details, places, uow.now)
        record_event(
            uow,
            caller,
            (SUBJECT, schedule.id),
            "ScheduleChanged",
            before=before,
            after=_snapshot(schedule),
        )
        _follow(uow, caller, schedule, details, places, uow.schedules.grants_of(schedule.id))
        uow.commit()
        return schedule


def revoke_schedule(uow: UnitOfWork, caller: Caller, schedule_id: str, reason: str) -> int:
    """Revoke the schedule and every window not over yet; returns how many were revoked."""
    caller.require_writer()
    with uow:
        schedule = _get(uow, caller, schedule_id)
        if schedule.revoked_at is not None:
            return 0
        schedule.revoked_at = uow.now
        why = reason or "the schedule was revoked"
        revoked = sum(
            revoke(uow, caller, grant, why)
            for grant in uow.schedules.grants_of(schedule.id)
            if grant.ends_at > uow.now
        )
        record_event(uow, caller, (SUBJECT, schedule.id), "ScheduleRevoked", why)
        uow.commit()
        return revoked


def get_schedule(uow: UnitOfWork, caller: Caller, schedule_id: str) -> ScheduleView:
    """One schedule with its windows."""
    with uow:
        return _view(uow, _get(uow, caller, schedule_id))


def list_schedules(uow: UnitOfWork, caller: Caller) -> list[ScheduleView]:
    """The organisation's schedules, live ones first."""
    with uow:
        return [_view(uow, found) for found in uow.schedules.all(caller.organisation_id)]


def details_of(schedule: StaffSchedule) -> ScheduleDetails:
    """The schedule as the operator said it."""
    return ScheduleDetails(
        holder=schedule.holder,
        property_refs=tuple(prop.id for prop in schedule.properties),
        frequency=Frequency(schedule.frequency),
        starts=schedule.starts_time,
        ends=schedule.ends_time,
        first_day=schedule.first_day,
        last_day=schedule.last_day,
        weekdays=frozenset(schedule.weekdays),
        except_days=frozenset(date.fromisoformat(day) for day in schedule.except_days),
    )


def _view(uow: UnitOfWork, schedule: StaffSchedule) -> ScheduleView:
    names = tuple(prop.name for prop in schedule.properties)
    grants = tuple(uow.schedules.grants_of(schedule.id))
    for grant in grants:  # loaded now: pages read them after the transaction
        _ = [code.lock.name for code in grant.lock_codes]
    details = details_of(schedule)
    notes = tuple(
        f"{prop.name}, {note}"
        for prop in schedule.properties
        for note in clock_notes(details, zone_named(prop.time_zone))
    )
    return ScheduleView(schedule, details, names, grants, notes)


def follow_zone_change(uow: UnitOfWork, caller: Caller, prop: Property, previous_zone: str) -> None:
    """Re-read the property's schedule windows on its new clock, inside the caller's
    transaction: 10:00 stays 10:00 on site.

    Each window keeps its grant and code; a window the new clock puts in the past is
    revoked. A window that was over on the old clock but is still ahead on the new one gets
    a grant, as the schedule would have given it from the start, unless an operator revoked
    that day. A grant that matches no old window is left as it is: nothing says it is wrong.
    """
    old, new = zone_named(previous_zone), zone_named(prop.time_zone)
    for schedule in uow.schedules.all(caller.organisation_id):
        if schedule.revoked_at is not None or prop not in schedule.properties:
            continue
        details = details_of(schedule)
        _follow_zone(uow, caller, schedule, prop, dated_windows(details, old), details, new)


def _follow_zone(
    uow: UnitOfWork,
    caller: Caller,
    schedule: StaffSchedule,
    prop: Property,
    old_windows: Sequence[tuple[date, TimeWindow]],
    details: ScheduleDetails,
    new: ZoneInfo,
) -> None:
    """One schedule's grants at ``prop`` moved to the new clock, and its missing windows
    opened with the schedule's code there."""
    target = GrantTarget.of_property(prop)
    old_day = {window.starts_at: day for day, window in old_windows}
    new_windows = dated_windows(details, new)
    moved_to = dict(new_windows)
    new_day = {(window.starts_at, window.ends_at): day for day, window in new_windows}
    settled: set[date] = set()  # days that have their grant, or must not get one
    code: str | None = None
    for grant in uow.schedules.grants_of(schedule.id):
        if grant.property_id != prop.id:
            continue
        day = old_day.get(grant.starts_at)
        already_new = new_day.get((grant.starts_at, grant.ends_at))
        if grant.revoked_at is not None:
            if grant.revoke_reason != SCHEDULE_CHANGED:  # an operator's revocation sticks
                settled.update(found for found in (day, already_new) if found is not None)
            continue
        if grant.ends_at <= uow.now:
            continue  # over: its day on the new clock may still be ahead
        window = moved_to.get(day) if day is not None else None
        if day is None or window is None:
            if already_new is not None:  # on the new clock already
                settled.add(already_new)
                code = code or uow.grants.code_of(grant)
            continue
        settled.add(day)
        if window.ends_at <= uow.now:
            revoke(uow, caller, grant, SCHEDULE_CHANGED)
        else:
            move_grant(uow, caller, grant, window, target)
            code = code or uow.grants.code_of(grant)
    for day, window in new_windows:
        if day in settled or window.ends_at <= uow.now:
            continue
        opened = _open(uow, caller, schedule, prop, window, code)
        code = code or uow.grants.code_of(opened)


def _follow(
    uow: UnitOfWork,
    caller: Caller,
    schedule: StaffSchedule,
    details: ScheduleDetails,
    places: Sequence[Property],
    existing: Sequence[Grant],
) -> None:
    """Make the schedule's grants match its windows on each property's clock."""
    wanted = {
        (prop.id, window.starts_at, window.ends_at): (prop, window)
        for prop in places
        for window in windows_of(details, zone_named(prop.time_zone))
        if window.ends_at > uow.now
    }
    kept: dict[str, str] = {}
    for grant in existing:
        key = (grant.property_id or "", grant.starts_at, grant.ends_at)
        if grant.revoked_at is None and key in wanted:
            del wanted[key]
            grant.holder = schedule.holder
            kept.setdefault(key[0], uow.grants.code_of(grant))
        elif grant.revoked_at is None and grant.ends_at > uow.now:
            revoke(uow, caller, grant, SCHEDULE_CHANGED)
        elif grant.revoke_reason != SCHEDULE_CHANGED:
            wanted.pop(key, None)  # an operator revoked this window: it stays revoked
    for prop, window in sorted(wanted.values(), key=lambda pair: pair[1].starts_at):
        grant = _open(uow, caller, schedule, prop, window, kept.get(prop.id))
        kept.setdefault(prop.id, uow.grants.code_of(grant))


def _open(
    uow: UnitOfWork,
    caller: Caller,
    schedule: StaffSchedule,
    prop: Property,
    window: TimeWindow,
    code: str | None,
) -> Grant:
    """One window's grant, with the schedule's code on this property when it is free."""
    target = GrantTarget.of_property(prop)
    try:
        grant = open_grant(
            uow,
            caller,
            kind=GrantKind.STAFF,
            holder=schedule.holder,
            window=window,
            target=target,
            code=code,
        )
    except CodeClash:
        grant = open_grant(
            uow,
            caller,
            kind=GrantKind.STAFF,
            holder=schedule.holder,
            window=window,
            target=target,
        )
    grant.schedule_id = schedule.id
    return grant


def _apply(
    schedule: StaffSchedule, details: ScheduleDetails, places: Sequence[Property], now: datetime
) -> None:
    schedule.holder = details.holder.strip()
    schedule.frequency = details.frequency.value
    schedule.weekdays = sorted(details.weekdays) if details.frequency is Frequency.WEEKLY else []
    schedule.starts_time, schedule.ends_time = details.starts, details.ends
    schedule.first_day, schedule.last_day = details.first_day, details.last_day
    schedule.except_days = sorted(day.isoformat() for day in details.except_days)
    schedule.properties = list(places)
    schedule.updated_at = now


def _properties(uow: UnitOfWork, caller: Caller, refs: Sequence[str]) -> list[Property]:
    found = []
    for ref in dict.fromkeys(refs):
        prop = uow.properties.find(caller.organisation_id, ref)
        if prop is None:
            raise NotFound("property", ref)
        if not prop.locks:
            raise InvalidRequest(f"{prop.name} has no locks to give a code on")
        found.append(prop)
    return found


def _get(uow: UnitOfWork, caller: Caller, schedule_id: str) -> StaffSchedule:
    schedule = uow.schedules.get(caller.organisation_id, schedule_id)
    if schedule is None:
        raise NotFound("schedule", schedule_id)
    return schedule


def _snapshot(schedule: StaffSchedule) -> dict[str, Any]:
    return {
        "holder": schedule.holder,
        "frequency": schedule.frequency,
        "weekdays": list(schedule.weekdays),
        "starts": schedule.starts_time.isoformat(),
        "ends": schedule.ends_time.isoformat(),
        "first_day": schedule.first_day.isoformat(),
        "last_day": schedule.last_day.isoformat(),
        "except_days": list(schedule.except_days),
        "properties": [prop.id for prop in schedule.properties],
    }
