"""§12 A million random guesses at a lock open it as often as the closed-form count predicts.

Each test types 10**6 uniformly random codes at one lock at one fixed moment (lockout turned
off so every guess is judged) and compares the openings with ``accepted windows / 10**digits``.
The band is the Poisson interval with at most one chance in a million on either side (Poisson
is slightly wider than the true binomial, so the band is conservative). At ten digits only
about 36 guesses in a million open, so the band is wide; at eight digits about 3,600 do,
which pins the rate to within 8 %. The codes are seeded, so the tests never flake.
"""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import accumulate
from math import exp, lgamma, log, sqrt

import pytest

from doorcode.domain.offline import accepted_window_count
from doorcode.domain.offline.window_packing import DAY, HOUR
from tests.domain.offline.builders import EPOCH, make_group, make_keypad

GUESSES = 10**6
NOW = 2000 * DAY + 10 * HOUR + 1800
MOMENT = EPOCH + timedelta(seconds=NOW)
TOLERANCE = 300
TAIL = 1e-6


def poisson_interval(mean: float, tail: float) -> tuple[int, int]:
    """Counts below ``low`` or above ``high`` each have probability at most ``tail``."""
    counts = range(int(mean + 15 * sqrt(mean) + 30))
    cdf = list(accumulate(exp(-mean + k * log(mean) - lgamma(k + 1)) for k in counts))
    low = next(k for k in counts if cdf[k] > tail)
    high = next(k for k in counts if cdf[k] >= 1 - tail)
    return low, high


def random_codes(digits: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.randrange(10**digits):0{digits}d}" for _ in range(GUESSES)]


def expected_openings(digits: int, *, activation_rule: bool) -> float:
    accepted = accepted_window_count(NOW, TOLERANCE, activation_rule=activation_rule)
    return GUESSES * accepted / 10**digits


def unlimited_keypad(digits: int, *, activation_rule: bool):
    return make_keypad(
        make_group(digits=digits),
        activation_rule=activation_rule,
        lockout_after=GUESSES + 1,
        activation_capacity=GUESSES,
    )


@pytest.mark.slow
def test_random_ten_digit_guesses_open_the_lock_at_the_computed_rate():
    keypad = unlimited_keypad(10, activation_rule=False)
    opened = sum(keypad.enter(code, MOMENT).opened for code in random_codes(10, seed=10))
    expected = expected_openings(10, activation_rule=False)
    assert expected == pytest.approx(36.1563)
    low, high = poisson_interval(expected, TAIL)
    assert low <= opened <= high


# The eight-digit guesses, without and with the activation rule, are two tests (the same seeded
# codes at each keypad) so that pytest-xdist can run them on two cores at once.


@pytest.mark.slow
def test_random_eight_digit_guesses_open_at_the_computed_rate():
    keypad = unlimited_keypad(8, activation_rule=False)
    opened = sum(keypad.enter(code, MOMENT).opened for code in random_codes(8, seed=8))
    expected = expected_openings(8, activation_rule=False)
    low, high = poisson_interval(expected, TAIL)
    assert low <= opened <= high
    assert (high - low) / expected < 0.16


@pytest.mark.slow
def test_with_the_activation_rule_random_eight_digit_guesses_open_ten_times_less_often():
    keypad = unlimited_keypad(8, activation_rule=True)
    opened = sum(keypad.enter(code, MOMENT).opened for code in random_codes(8, seed=8))
    low, high = poisson_interval(expected_openings(8, activation_rule=True), TAIL)
    assert low <= opened <= high
    assert high < expected_openings(8, activation_rule=False) / 10


def test_the_poisson_band_is_what_the_figures_need():
    assert poisson_interval(3615.63, TAIL)[0] > 3300
    assert poisson_interval(3615.63, TAIL)[1] < 3930
    assert poisson_interval(36.1563, TAIL) == pytest.approx((13, 70), abs=3)
