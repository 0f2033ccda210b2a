"""Stay windows across daylight-saving changes, in zones with unusual rules too."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorcode.domain.errors import InvalidWindow, UnknownTimeZone
from doorcode.domain.windows import Edge, TimeWindow, local_instant, stay_window, zone_named

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
ZONES = [LONDON, NEW_YORK, LORD_HOWE, KOLKATA]

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def test_check_in_on_the_day_clocks_spring_forward_is_still_three_pm_local():
    starts = local_instant(date(2026, 3, 29), time(15), LONDON, Edge.START)
    assert starts == datetime(2026, 3, 29, 14, 0, tzinfo=UTC)


def test_local_time_in_the_spring_gap_moves_to_the_moment_clocks_jump():
    starts = local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK, Edge.START)
    assert starts.astimezone(NEW_YORK).time() == time(3, 0)
    assert starts == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_lord_howe_half_hour_gap_moves_to_half_past_two():
    ends = local_instant(date(2026, 10, 4), time(2, 10), LORD_HOWE, Edge.END)
    assert ends.astimezone(LORD_HOWE).time() == time(2, 30)


def test_ambiguous_local_time_takes_earlier_instant_for_starts_and_later_for_ends():
    starts = local_instant(date(2026, 11, 1), time(1, 30), NEW_YORK, Edge.START)
    ends = local_instant(date(2026, 11, 1), time(1, 30), NEW_YORK, Edge.END)
    assert starts == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert ends == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_stay_across_the_autumn_change_lasts_one_hour_longer_than_the_wall_clock_says():
    window = stay_window(date(2026, 10, 24), time(15), date(2026, 10, 26), time(11), LONDON)
    assert window.duration == timedelta(hours=44 + 1)


def test_kolkata_has_no_daylight_saving_and_a_half_hour_offset():
    window = stay_window(date(2026, 3, 28), time(15), date(2026, 3, 30), time(11), KOLKATA)
    assert window.starts_at == datetime(2026, 3, 28, 9, 30, tzinfo=UTC)
    assert window.duration == timedelta(hours=44)


def test_check_out_before_check_in_is_refused():
    with pytest.raises(InvalidWindow, match="check-out must be after check-in"):
        stay_window(date(2026, 5, 2), time(15), date(2026, 5, 2), time(11), LONDON)


def test_naive_bounds_are_refused():
    with pytest.raises(InvalidWindow, match="timezone-aware"):
        TimeWindow(datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001


def test_unknown_zone_names_are_refused_clearly():
    with pytest.raises(UnknownTimeZone, match="Mars/Olympus"):
        zone_named("Mars/Olympus")


def test_windows_are_half_open():
    window = TimeWindow(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    assert window.contains(window.starts_at)
    assert not window.contains(window.ends_at)
    assert not window.overlaps(TimeWindow(window.ends_at, window.ends_at + timedelta(hours=1)))


@given(st.sampled_from(ZONES), days, quarter_hours, st.sampled_from(Edge))
def test_an_existing_local_time_reads_back_unchanged(zone, day, at, edge):
    instant = local_instant(day, at, zone, edge)
    requested = datetime.combine(day, at)
    reads = wall(instant, zone)
    if reads != requested:
        # Only a spring-forward gap may move the time, and only forward to the jump.
        assert reads > requested
        assert wall(instant - timedelta(seconds=1), zone) < requested
    assert instant.tzinfo is UTC


@given(st.sampled_from(ZONES), days, quarter_hours)
def test_starts_never_come_after_ends_for_the_same_local_time(zone, day, at):
    assert local_instant(day, at, zone, Edge.START) <= local_instant(day, at, zone, Edge.END)


@given(st.sampled_from(ZONES), days, st.integers(1, 30), quarter_hours, quarter_hours)
def test_stay_duration_is_wall_clock_length_corrected_by_the_offset_change(
    zone, day, nights, check_in_at, check_out_at
):
    check_out = day + timedelta(days=nights)
    window = stay_window(day, check_in_at, check_out, check_out_at, zone)
    offset_change = (
        window.ends_at.astimezone(zone).utcoffset() - window.starts_at.astimezone(zone).utcoffset()
    )
    wall_length = wall(window.ends_at, zone) - wall(window.starts_at, zone)
    assert window.duration == wall_length - offset_change
