"""Recurring staff codes: one schedule whose windows stay on each property's clock across
daylight-saving changes, and which is changed and revoked as one."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.grants import revoke_grant
from doorcode.services.properties import change_property
from doorcode.services.schedules import (
    Frequency,
    ScheduleDetails,
    change_schedule,
    clock_notes,
    create_schedule,
    get_schedule,
    revoke_schedule,
    windows_of,
)
from tests.api.conftest import database_dump
from tests.builders import make_owner, make_property

MADRID = ZoneInfo("Europe/Madrid")
SUNDAY = 6


def sundays(first, last, starts=time(10), ends=time(14), **more):
    return ScheduleDetails(
        holder="Marta (cleaner)",
        property_refs=more.pop("property_refs", ()),
        frequency=Frequency.WEEKLY,
        starts=starts,
        ends=ends,
        first_day=first,
        last_day=last,
        weekdays=frozenset({SUNDAY}),
        **more,
    )


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def test_a_weekly_window_keeps_its_local_hours_across_the_march_change_in_madrid():
    # Spain moves to summer time on the last Sunday of March: 28 March 2027.
    windows = windows_of(sundays(date(2027, 3, 21), date(2027, 4, 4)), MADRID)
    assert [(w.starts_at, w.ends_at) for w in windows] == [
        (utc(2027, 3, 21, 9), utc(2027, 3, 21, 13)),  # CET, UTC+1
        (utc(2027, 3, 28, 8), utc(2027, 3, 28, 12)),  # CEST, UTC+2, the very day
        (utc(2027, 4, 4, 8), utc(2027, 4, 4, 12)),
    ]


def test_a_weekly_window_keeps_its_local_hours_across_the_october_change_in_madrid():
    # Back to winter time on the last Sunday of October: 31 October 2027.
    windows = windows_of(sundays(date(2027, 10, 24), date(2027, 11, 7)), MADRID)
    assert [w.starts_at for w in windows] == [
        utc(2027, 10, 24, 8),
        utc(2027, 10, 31, 9),
        utc(2027, 11, 7, 9),
    ]
    assert all(w.ends_at - w.starts_at == timedelta(hours=4) for w in windows)


def test_a_window_in_the_skipped_hour_starts_when_the_clocks_jump_and_a_repeated_hour_is_long():
    gap = windows_of(sundays(date(2027, 3, 28), date(2027, 3, 28), time(2, 30), time(4)), MADRID)
    assert (gap[0].starts_at, gap[0].ends_at) == (utc(2027, 3, 28, 1), utc(2027, 3, 28, 2))
    fold = windows_of(
        sundays(date(2027, 10, 31), date(2027, 10, 31), time(2, 15), time(2, 45)), MADRID
    )
    # 02:15 happens twice: the window opens at the first and closes at the second 02:45.
    assert (fold[0].starts_at, fold[0].ends_at) == (
        utc(2027, 10, 31, 0, 15),
        utc(2027, 10, 31, 1, 45),
    )


def test_days_off_and_night_shifts():
    details = ScheduleDetails(
        holder="Night porter",
        property_refs=(),
        frequency=Frequency.DAILY,
        starts=time(22),
        ends=time(6),
        first_day=date(2027, 1, 1),
        last_day=date(2027, 1, 4),
        except_days=frozenset({date(2027, 1, 2)}),
    )
    windows = windows_of(details, ZoneInfo("Europe/Lisbon"))
    assert [(w.starts_at, w.ends_at) for w in windows] == [
        (utc(2027, 1, 1, 22), utc(2027, 1, 2, 6)),
        (utc(2027, 1, 3, 22), utc(2027, 1, 4, 6)),
        (utc(2027, 1, 4, 22), utc(2027, 1, 5, 6)),
    ]


@pytest.fixture
def owner(runtime):
    return make_owner(runtime, "acme")


@pytest.fixture
def flats(runtime, owner):
    return (
        make_property(runtime, owner, "Flat 1A", time_zone="Europe/Madrid"),
        make_property(runtime, owner, "Flat 2B", time_zone="Europe/Lisbon"),
    )


def grants_of(runtime, owner, schedule_id):
    view = get_schedule(runtime.uow(), owner, schedule_id)
    return [(g.property_id, g.starts_at, g.ends_at, g.revoked_at is None) for g in view.grants]


def codes_of(runtime, schedule_id):
    with runtime.uow() as uow:
        grants = uow.schedules.grants_of(schedule_id)
        return {(g.property_id, uow.grants.code_of(g)) for g in grants if g.revoked_at is None}


def test_one_schedule_gives_each_property_a_grant_per_window_on_its_own_clock(
    runtime, owner, flats
):
    madrid, lisbon = flats
    details = sundays(date(2027, 3, 21), date(2027, 3, 28), property_refs=(madrid.id, lisbon.id))
    schedule = create_schedule(runtime.uow(), owner, details)
    assert grants_of(runtime, owner, schedule.id) == [
        (madrid.id, utc(2027, 3, 21, 9), utc(2027, 3, 21, 13), True),
        (lisbon.id, utc(2027, 3, 21, 10), utc(2027, 3, 21, 14), True),
        (madrid.id, utc(2027, 3, 28, 8), utc(2027, 3, 28, 12), True),
        (lisbon.id, utc(2027, 3, 28, 9), utc(2027, 3, 28, 13), True),
    ]
    # One code per property for the whole series: the cleaner learns it once.
    assert len({prop for prop, _code in codes_of(runtime, schedule.id)}) == 2
    assert len(codes_of(runtime, schedule.id)) == 2


def test_changing_the_schedule_keeps_the_windows_that_stay_and_their_code(runtime, owner, flats):
    madrid, _lisbon = flats
    details = sundays(date(2027, 3, 21), date(2027, 4, 4), property_refs=(madrid.id,))
    schedule = create_schedule(runtime.uow(), owner, details)
    [(_prop, code)] = codes_of(runtime, schedule.id)
    day_off = sundays(
        date(2027, 3, 21),
        date(2027, 4, 11),
        property_refs=(madrid.id,),
        except_days=frozenset({date(2027, 3, 28)}),
    )
    change_schedule(runtime.uow(), owner, schedule.id, day_off)
    live = [(start, alive) for _p, start, _e, alive in grants_of(runtime, owner, schedule.id)]
    assert live == [
        (utc(2027, 3, 21, 9), True),
        (utc(2027, 3, 28, 8), False),  # the day off: revoked
        (utc(2027, 4, 4, 8), True),
        (utc(2027, 4, 11, 8), True),  # a week more
    ]
    assert codes_of(runtime, schedule.id) == {(madrid.id, code)}


def test_revoking_the_schedule_revokes_every_window_not_over(runtime, owner, flats, clock):
    madrid, lisbon = flats
    first = clock.now.date()
    details = ScheduleDetails(
        holder="Marta (cleaner)",
        property_refs=(madrid.id, lisbon.id),
        frequency=Frequency.DAILY,
        starts=time(6),
        ends=time(8),
        first_day=first - timedelta(days=2),
        last_day=first + timedelta(days=3),
    )
    schedule = create_schedule(runtime.uow(), owner, details)
    before = grants_of(runtime, owner, schedule.id)
    assert all(end > clock.now for _p, _s, end, _alive in before)  # past windows are not made
    assert revoke_schedule(runtime.uow(), owner, schedule.id, "Marta left") == len(before)
    assert not any(alive for *_rest, alive in grants_of(runtime, owner, schedule.id))
    assert revoke_schedule(runtime.uow(), owner, schedule.id, "again") == 0


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"holder": " "}, "say who the schedule is for"),
        ({"property_refs": ()}, "choose at least one property"),
        ({"last_day": date(2027, 3, 1)}, "the last day is before the first day"),
        ({"last_day": date(2028, 6, 1)}, "a schedule spans at most 366 days"),
        ({"weekdays": frozenset()}, "a weekly schedule needs at least one weekday"),
        ({"ends": time(10)}, "the window must not start and end at the same time"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_reason_and_nothing_changes(
    runtime, owner, flats, changes, reason
):
    details = sundays(date(2027, 3, 21), date(2027, 4, 4), property_refs=(flats[0].id,))
    fields = {name: getattr(details, name) for name in details.__dataclass_fields__}
    before = database_dump(runtime)
    with pytest.raises(InvalidRequest, match=reason):
        create_schedule(runtime.uow(), owner, ScheduleDetails(**{**fields, **changes}))
    assert database_dump(runtime) == before


def test_a_schedule_for_an_unknown_property_changes_nothing(runtime, owner, flats):
    before = database_dump(runtime)
    with pytest.raises(NotFound):
        create_schedule(
            runtime.uow(),
            owner,
            sundays(date(2027, 3, 21), date(2027, 4, 4), property_refs=(flats[0].id, "nowhere")),
        )
    assert database_dump(runtime) == before


def test_a_window_an_operator_revoked_stays_revoked_when_the_schedule_changes(
    runtime, owner, flats
):
    """A leaked code or a cancelled visit: the next edit of the schedule must not reopen it."""
    madrid, _lisbon = flats
    details = sundays(date(2027, 3, 21), date(2027, 4, 4), property_refs=(madrid.id,))
    schedule = create_schedule(runtime.uow(), owner, details)
    with runtime.uow() as uow:
        second = sorted(uow.schedules.grants_of(schedule.id), key=lambda g: g.starts_at)[1]
        second_id = second.id
    revoke_grant(runtime.uow(), owner, second_id, "the cleaner is ill that day")
    change_schedule(runtime.uow(), owner, schedule.id, replace(details, holder="Marta"))
    live = [(start, alive) for _p, start, _e, alive in grants_of(runtime, owner, schedule.id)]
    assert live == [
        (utc(2027, 3, 21, 9), True),
        (utc(2027, 3, 28, 8), False),
        (utc(2027, 4, 4, 8), True),
    ]


def test_a_window_wholly_in_the_skipped_hour_moves_alone_and_is_named(runtime, owner, flats):
    """Lisbon skips 01:00-02:00 on 28 March 2027: a 01:15-01:45 window cannot exist that day.
    It starts when the clocks jump and keeps its half hour; the other Sundays are untouched
    and the schedule says which day moved (it used to refuse the whole schedule)."""
    _madrid, lisbon = flats
    night = sundays(
        date(2027, 3, 21), date(2027, 4, 4), time(1, 15), time(1, 45), property_refs=(lisbon.id,)
    )
    schedule = create_schedule(runtime.uow(), owner, night)
    assert [(start, end) for _p, start, end, _a in grants_of(runtime, owner, schedule.id)] == [
        (utc(2027, 3, 21, 1, 15), utc(2027, 3, 21, 1, 45)),  # WET, UTC+0
        (utc(2027, 3, 28, 1), utc(2027, 3, 28, 1, 30)),  # from the jump, 30 minutes
        (utc(2027, 4, 4, 0, 15), utc(2027, 4, 4, 0, 45)),  # WEST, UTC+1
    ]
    notes = get_schedule(runtime.uow(), owner, schedule.id).notes
    assert notes == (
        "Flat 2B, 2027-03-28: 01:15 does not exist on the clock (it springs forward); "
        "that day's window starts when the clocks jump and keeps its usual length",
    )


def test_a_window_ending_in_the_skipped_hour_ends_at_the_jump_and_says_so():
    details = sundays(date(2027, 3, 28), date(2027, 3, 28), time(0, 30), time(1, 30))
    [window] = windows_of(details, ZoneInfo("Europe/Lisbon"))
    assert (window.starts_at, window.ends_at) == (utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1))
    [note] = clock_notes(details, ZoneInfo("Europe/Lisbon"))
    assert "01:30 does not exist" in note
    assert "ends when the clocks jump" in note


def test_a_new_time_zone_moves_the_schedule_windows_and_keeps_their_code(
    runtime, owner, flats, clock
):
    """10:00 stays 10:00 on site when the property's zone is corrected; nothing else moves."""
    madrid, lisbon = flats
    details = sundays(date(2027, 3, 21), date(2027, 4, 4), property_refs=(madrid.id, lisbon.id))
    schedule = create_schedule(runtime.uow(), owner, details)
    before = codes_of(runtime, schedule.id)
    change_property(runtime.uow(), owner, madrid.id, {"time_zone": "Asia/Tokyo"})
    live = [
        (prop, start, end)
        for prop, start, end, alive in grants_of(runtime, owner, schedule.id)
        if alive
    ]
    assert [(start, end) for prop, start, end in live if prop == madrid.id] == [
        (utc(2027, 3, 21, 1), utc(2027, 3, 21, 5)),  # 10:00-14:00 JST
        (utc(2027, 3, 28, 1), utc(2027, 3, 28, 5)),
        (utc(2027, 4, 4, 1), utc(2027, 4, 4, 5)),
    ]
    assert next((start, end) for prop, start, end in live if prop == lisbon.id) == (
        utc(2027, 3, 21, 10),
        utc(2027, 3, 21, 14),
    )
    assert codes_of(runtime, schedule.id) == before  # the cleaner's codes did not change


def daily(first, last, prop):
    return ScheduleDetails(
        holder="Marta (cleaner)",
        property_refs=(prop.id,),
        frequency=Frequency.DAILY,
        starts=time(10),
        ends=time(14),
        first_day=first,
        last_day=last,
    )


@pytest.fixture
def by_the_sea(runtime, owner, clock):
    """A flat first set up in UTC by mistake, with a daily 10:00-14:00 cleaner from today."""
    flat = make_property(runtime, owner, "Beach house", time_zone="UTC")
    today = clock.now.date()
    schedule = create_schedule(runtime.uow(), owner, daily(today, today + timedelta(days=2), flat))
    clock.now = datetime.combine(today, time(15), tzinfo=UTC)  # UTC's window is over
    return flat, schedule, today


def test_a_window_over_on_the_old_clock_but_ahead_on_the_new_one_gets_its_grant(
    runtime, owner, by_the_sea, clock
):
    """15:00 UTC is 07:00 in Los Angeles: today's 10:00-14:00 there is still to come."""
    flat, schedule, today = by_the_sea
    code = {code for _prop, code in codes_of(runtime, schedule.id)}
    change_property(runtime.uow(), owner, flat.id, {"time_zone": "America/Los_Angeles"})
    grants = grants_of(runtime, owner, schedule.id)
    live = [(s, e) for _p, s, e, alive in grants if alive and e > clock.now]
    pacific = ZoneInfo("America/Los_Angeles")
    assert live == [
        (
            datetime.combine(today + timedelta(days=n), time(10), tzinfo=pacific),
            datetime.combine(today + timedelta(days=n), time(14), tzinfo=pacific),
        )
        for n in range(3)
    ]
    assert {code for _prop, code in codes_of(runtime, schedule.id)} == code  # one code still


def test_a_window_an_operator_revoked_stays_revoked_when_the_zone_changes(
    runtime, owner, by_the_sea, clock
):
    flat, schedule, today = by_the_sea
    tomorrow = datetime.combine(today + timedelta(days=1), time(10), tzinfo=UTC)
    [grant] = [
        g for g in get_schedule(runtime.uow(), owner, schedule.id).grants if g.starts_at == tomorrow
    ]
    revoke_grant(runtime.uow(), owner, grant.id, "no cleaning tomorrow")
    change_property(runtime.uow(), owner, flat.id, {"time_zone": "America/Los_Angeles"})
    grants = grants_of(runtime, owner, schedule.id)
    live = [s.date() for _p, s, e, alive in grants if alive and e > clock.now]
    assert live == [today, today + timedelta(days=2)]


def test_a_grant_that_matches_no_window_is_not_revoked_by_a_zone_change(runtime, owner, by_the_sea):
    """A grant moved by hand is the operator's decision, not a mistake to clean up."""
    flat, schedule, today = by_the_sea
    last = datetime.combine(today + timedelta(days=2), time(10), tzinfo=UTC)
    with runtime.uow() as uow:
        [grant] = [g for g in uow.schedules.grants_of(schedule.id) if g.starts_at == last]
        grant.starts_at, grant.ends_at = last + timedelta(hours=1), last + timedelta(hours=5)
        moved_id = grant.id
        uow.commit()
    change_property(runtime.uow(), owner, flat.id, {"time_zone": "America/Los_Angeles"})
    view = get_schedule(runtime.uow(), owner, schedule.id)
    [moved] = [g for g in view.grants if g.id == moved_id]
    assert moved.revoked_at is None
    assert moved.starts_at == last + timedelta(hours=1)
