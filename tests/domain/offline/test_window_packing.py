"""§2-§4 Issuable windows: a gap-free bijection with [0, P), and rounding that only ever widens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorcode.domain.errors import InvalidWindow
from doorcode.domain.offline.errors import OfflineWindowUnsupported
from doorcode.domain.offline.window_packing import (
    DAILY_WINDOWS,
    DAY,
    HORIZON_DAYS,
    HOUR,
    HOURLY_WINDOWS,
    WINDOW_COUNT,
    Span,
    cover,
    issuable_cover,
    pack,
    span_of,
    unpack,
    window_of,
)
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import EPOCH, at

HORIZON = HORIZON_DAYS * DAY
indices = st.integers(0, WINDOW_COUNT - 1)
# Requests anywhere a code may start, up to a year long, at one-second precision.
requests = st.tuples(st.integers(0, HORIZON - 1), st.integers(1, 365 * DAY - 2 * DAY)).map(
    lambda pair: (pair[0], pair[0] + pair[1])
)


def test_p_is_the_exact_number_of_issuable_windows():
    assert HOURLY_WINDOWS == HORIZON_DAYS * 24 * 768
    assert DAILY_WINDOWS == HORIZON_DAYS * (365 - 33 + 1)
    assert WINDOW_COUNT == 96_076_800


def test_p_fits_under_the_shortest_code_length():
    assert WINDOW_COUNT < 10**8


@given(indices)
def test_every_number_below_p_is_one_issuable_window(index):
    assert pack(unpack(index)) == index


@given(st.integers(0, HORIZON_DAYS * 24 - 1), st.integers(1, 768))
def test_every_hourly_window_has_a_number_below_p(start_hour, hours):
    span = Span(start_hour * HOUR, (start_hour + hours) * HOUR)
    assert 0 <= pack(span) < HOURLY_WINDOWS
    assert unpack(pack(span)) == span


@given(st.integers(0, HORIZON_DAYS - 1), st.integers(33, 365))
def test_every_daily_window_has_a_number_below_p(start_day, days):
    span = Span(start_day * DAY, (start_day + days) * DAY)
    assert HOURLY_WINDOWS <= pack(span) < WINDOW_COUNT
    assert unpack(pack(span)) == span


@pytest.mark.parametrize(
    ("index", "span"),
    [
        (0, Span(0, HOUR)),
        (767, Span(0, 768 * HOUR)),
        (768, Span(HOUR, 2 * HOUR)),
        (HOURLY_WINDOWS - 1, Span(HORIZON - HOUR, HORIZON + 767 * HOUR)),
        (HOURLY_WINDOWS, Span(0, 33 * DAY)),
        (HOURLY_WINDOWS + 332, Span(0, 365 * DAY)),
        (WINDOW_COUNT - 1, Span(HORIZON - DAY, HORIZON + 364 * DAY)),
    ],
)
def test_the_numbering_starts_and_ends_where_the_specification_says(index, span):
    assert unpack(index) == span
    assert pack(span) == index


@pytest.mark.parametrize("index", [-1, WINDOW_COUNT, 10**10 - 1])
def test_numbers_outside_zero_to_p_are_no_window(index):
    with pytest.raises(ValueError, match="out of range"):
        unpack(index)


@pytest.mark.parametrize(
    "span",
    [
        Span(HOUR // 2, 2 * HOUR),  # start off the hour grid
        Span(0, 769 * HOUR),  # too long for hours, not whole days
        Span(HOUR, HOUR + 33 * DAY),  # whole days, but starting off the day grid
        Span(0, 366 * DAY),  # longer than a year
        Span(-HOUR, HOUR),  # before the epoch
        Span(HORIZON, HORIZON + HOUR),  # past the horizon
    ],
)
def test_windows_off_the_grids_have_no_number(span):
    with pytest.raises(OfflineWindowUnsupported):
        pack(span)


@given(requests)
def test_rounding_never_shrinks_a_window(request):
    start, end = request
    issued = cover(start, end)
    assert issued.start <= start
    assert issued.end >= end


@given(requests)
def test_rounding_gives_an_issuable_window(request):
    issued = cover(*request)
    assert unpack(pack(issued)) == issued


@given(requests, indices)
def test_rounding_gives_the_smallest_issuable_window_that_covers_the_request(request, index):
    start, end = request
    issued = cover(start, end)
    other = unpack(index)
    if other.start <= start and end <= other.end:
        assert other.start <= issued.start
        assert issued.end <= other.end


@given(st.integers(0, HORIZON_DAYS * 24 - 800), st.integers(1, 768), st.integers(0, HOUR - 1))
def test_requests_up_to_thirty_two_days_round_to_the_hour(start_hour, hours, slack):
    issued = cover(start_hour * HOUR + slack, (start_hour + hours) * HOUR)
    assert issued == Span(start_hour * HOUR, (start_hour + hours) * HOUR)


def test_a_request_just_over_thirty_two_days_rounds_to_whole_days():
    issued = cover(15 * HOUR, 15 * HOUR + 768 * HOUR + 1)
    assert issued == Span(0, 33 * DAY)


def test_a_request_before_the_epoch_is_unsupported():
    with pytest.raises(OfflineWindowUnsupported, match="epoch"):
        cover(-1, HOUR)


def test_a_request_past_the_horizon_is_unsupported():
    with pytest.raises(OfflineWindowUnsupported, match="horizon"):
        cover(HORIZON, HORIZON + HOUR)


def test_a_request_longer_than_a_year_is_unsupported():
    with pytest.raises(OfflineWindowUnsupported, match="365"):
        cover(0, 365 * DAY + 1)


def test_time_windows_round_outward_to_whole_seconds():
    requested = TimeWindow(
        at(3, 15, 0, 0) + timedelta(microseconds=1), at(7, 11) - timedelta(0, 0, 1)
    )
    assert span_of(requested, EPOCH) == Span(3 * DAY + 15 * HOUR, 7 * DAY + 11 * HOUR)


def test_issuable_cover_speaks_in_utc_windows():
    requested = TimeWindow(at(3, 15, 20), at(7, 10, 40))
    assert issuable_cover(requested, EPOCH) == TimeWindow(at(3, 15), at(7, 11))
    assert window_of(Span(0, HOUR), EPOCH) == TimeWindow(at(0), at(0, 1))


@pytest.mark.parametrize(("start", "end"), [(2 * HOUR, 2 * HOUR), (2 * HOUR + 1, 2 * HOUR)])
def test_s4_an_empty_or_reversed_request_is_refused_before_any_rounding(start, end):
    with pytest.raises(OfflineWindowUnsupported, match="end after it starts"):
        cover(start, end)


def test_s4_an_empty_request_cannot_even_be_written_as_a_window():
    with pytest.raises(InvalidWindow):
        TimeWindow(at(3, 2), at(3, 2))


def test_s2_the_latest_end_is_364_days_past_the_horizon():
    latest = max(unpack(WINDOW_COUNT - 1).end, unpack(HOURLY_WINDOWS - 1).end)
    assert latest == HORIZON + 364 * DAY
    assert unpack(WINDOW_COUNT - 1).start == HORIZON - DAY


def test_s3_every_number_and_bound_fits_in_32_bits_once_x_is_below_p():
    assert WINDOW_COUNT < 2**31
    assert HORIZON + 364 * DAY + 1_800 < 2**31
