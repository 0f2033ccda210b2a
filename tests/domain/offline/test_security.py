"""§12 The guessing figures of the specification, in closed form and checked by counting."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from doorcode.domain.offline import (
    GuessOdds,
    OfflineCodec,
    accepted_window_count,
    typical_accepted_windows,
    worst_accepted_windows,
)
from doorcode.domain.offline.window_packing import (
    DAY,
    HORIZON_DAYS,
    HOUR,
    HOURLY_WINDOWS,
    unpack,
    window_of,
)
from tests.domain.offline.builders import EPOCH, make_group, make_keypad

TOLERANCE = 300
MIDDLE = 2000 * DAY


def count_by_decoding(now: int, tolerance: int) -> tuple[int, int]:
    """Count accepted windows by unpacking every number whose window could contain ``now``.

    Hourly numbers are ordered by start hour and daily ones by start day, so the candidates
    are two runs of numbers; this restates the acceptance rule from the specification.
    """
    first_hour = max(0, (now - tolerance) // HOUR - 769)
    last_hour = min(HORIZON_DAYS * 24 - 1, (now + tolerance) // HOUR + 1)
    first_day = max(0, (now - tolerance) // DAY - 366)
    last_day = min(HORIZON_DAYS - 1, (now + tolerance) // DAY + 1)
    candidates = [
        range(first_hour * 768, (last_hour + 1) * 768),
        range(HOURLY_WINDOWS + first_day * 333, HOURLY_WINDOWS + (last_day + 1) * 333),
    ]
    plain = activated = 0
    for run in candidates:
        for index in run:
            start, end = unpack(index)
            if start - tolerance <= now < end + tolerance:
                plain += 1
                if end - start <= DAY or now < start + DAY + tolerance:
                    activated += 1
    return plain, activated


@pytest.mark.parametrize(
    "now",
    [
        MIDDLE + 10 * HOUR + 1800,  # half past an hour
        MIDDLE,  # on a day boundary
        MIDDLE - 1,  # a second before it, inside the tolerance
        MIDDLE + TOLERANCE - 1,  # the last second of the tolerance after it
        MIDDLE + TOLERANCE,  # the first second past it
        90,  # ninety seconds after the epoch: few windows started yet
        HORIZON_DAYS * DAY + 5 * HOUR,  # past the horizon: no new starts
    ],
)
def test_the_closed_form_count_matches_counting_every_window(now):
    plain, activated = count_by_decoding(now, TOLERANCE)
    assert accepted_window_count(now, TOLERANCE, activation_rule=False) == plain
    assert accepted_window_count(now, TOLERANCE, activation_rule=True) == activated


def test_at_most_361_563_windows_open_a_lock_at_a_typical_moment():
    assert typical_accepted_windows(activation_rule=False) == 768 * 769 // 2 + 66_267
    assert typical_accepted_windows(activation_rule=False) == 361_563


def test_the_activation_rule_leaves_18_489_windows():
    assert typical_accepted_windows(activation_rule=True) == 300 + 744 * 24 + 333 == 18_489


def test_the_activation_rule_cuts_the_guess_chance_by_a_factor_of_about_twenty():
    factor = typical_accepted_windows(activation_rule=False) / typical_accepted_windows(
        activation_rule=True
    )
    assert 19.5 < factor < 19.6


def test_near_a_day_boundary_the_tolerance_adds_one_start_per_length():
    assert worst_accepted_windows(activation_rule=False) == 361_563 + 768 + 333
    assert worst_accepted_windows(activation_rule=True) == 18_489 + 768 + 333


def test_a_ten_digit_guess_succeeds_about_once_in_27_700_tries():
    odds = GuessOdds(10, typical_accepted_windows(activation_rule=False))
    assert round(odds.expected_tries) == 27_658
    assert odds.probability == pytest.approx(3.61563e-5)


def test_with_the_activation_rule_a_ten_digit_guess_succeeds_once_in_540_862_tries():
    odds = GuessOdds(10, typical_accepted_windows(activation_rule=True))
    assert round(odds.expected_tries) == 540_862


def test_with_the_default_lockout_guessing_takes_weeks_or_a_year():
    lockout = timedelta(minutes=5)
    plain = GuessOdds(10, typical_accepted_windows(activation_rule=False))
    ruled = GuessOdds(10, typical_accepted_windows(activation_rule=True))
    assert plain.expected_time(5, lockout) / timedelta(days=1) == pytest.approx(19.21, abs=0.01)
    assert ruled.expected_time(5, lockout) / timedelta(days=1) == pytest.approx(375.6, abs=0.1)


def test_each_extra_digit_makes_guessing_ten_times_harder():
    accepted = typical_accepted_windows(activation_rule=False)
    tries = [GuessOdds(digits, accepted).expected_tries for digits in range(8, 13)]
    assert all(later / earlier == pytest.approx(10) for earlier, later in pairwise(tries))


def test_every_window_the_count_includes_has_a_distinct_code_that_opens_the_lock():
    now = MIDDLE + 10 * HOUR + 1800
    codec = OfflineCodec(make_group())
    keypad = make_keypad(lockout_after=10**6, activation_capacity=10**6)
    moment = EPOCH + timedelta(seconds=now)
    hour, day = now // HOUR, now // DAY
    recent_hourly = range((hour - 25) * 768, (hour + 1) * 768)
    todays_daily = range(HOURLY_WINDOWS + day * 333, HOURLY_WINDOWS + (day + 1) * 333)
    codes = set()
    for index in [*recent_hourly, *todays_daily]:
        start, end = unpack(index)
        if start - TOLERANCE <= now < min(end, start + DAY) + TOLERANCE:
            code = codec.code_for(index)
            assert keypad.enter(code, moment).opened, window_of(unpack(index), EPOCH)
            codes.add(code)
    assert len(codes) == typical_accepted_windows(activation_rule=True)
