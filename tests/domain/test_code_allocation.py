"""Code allocation: random, unique where windows overlap, and honest when the space is full."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorcode.domain.code_allocation import TakenCodes, acceptable_codes, allocate_code
from doorcode.domain.code_policy import CodeConstraints, CodePolicy
from doorcode.domain.errors import CodeSpaceExhausted


class StuckRandom(random.Random):
    """Draws the same symbol every time, so every random draw collides after the first."""

    def choice(self, seq):
        return seq[0]


def test_allocated_code_satisfies_the_policy_and_is_not_taken():
    policy = CodePolicy(6, constraints=CodeConstraints(no_zeros=True, no_sequence=True))
    taken = TakenCodes({"123456"}, prefix_free=False)
    code = allocate_code(policy, taken, random.Random(1))
    assert policy.accepts(code)
    assert code != "123456"


def test_when_draws_keep_colliding_it_picks_from_the_free_codes():
    policy = CodePolicy(4)
    taken = TakenCodes({"0000"}, prefix_free=False)
    code = allocate_code(policy, taken, StuckRandom(3))
    assert code != "0000"
    assert policy.accepts(code)


def test_the_last_free_code_is_found():
    policy = CodePolicy(4)
    every_code = set(acceptable_codes(policy))
    last = "8351"
    taken = TakenCodes(every_code - {last}, prefix_free=False)
    assert allocate_code(policy, taken, random.Random(7)) == last


def test_a_full_space_is_a_clear_error_never_a_duplicate():
    policy = CodePolicy(4, constraints=CodeConstraints(no_zeros=True))
    taken = TakenCodes(set(acceptable_codes(policy)), prefix_free=False)
    with pytest.raises(CodeSpaceExhausted, match="all 6561 acceptable codes are in use"):
        allocate_code(policy, taken, random.Random(7))


def test_on_a_prefix_free_keypad_no_code_is_a_prefix_of_another():
    taken = TakenCodes({"4821", "739155"}, prefix_free=True)
    assert taken.conflicts_with("482193")
    assert taken.conflicts_with("7391")
    assert not taken.conflicts_with("7392")
    assert not TakenCodes({"4821"}, prefix_free=False).conflicts_with("482193")


def test_the_fallback_choice_is_uniform_over_free_codes():
    policy = CodePolicy(4)
    free = {"2222", "4444", "6666", "8888"}
    taken = TakenCodes(set(acceptable_codes(policy)) - free, prefix_free=False)
    rng = random.Random(11)
    counts = dict.fromkeys(free, 0)
    for _ in range(400):
        counts[allocate_code(policy, taken, rng)] += 1
    assert all(60 < count < 140 for count in counts.values())


@given(
    st.lists(st.text("0123456789", min_size=4, max_size=8), max_size=30),
    st.integers(0, 2**32),
)
def test_allocated_codes_never_conflict_on_prefix_free_keypads(existing, seed):
    rng = random.Random(seed)
    prefix_free_taken = set()
    for code in existing:
        if not TakenCodes(prefix_free_taken, prefix_free=True).conflicts_with(code):
            prefix_free_taken.add(code)
    for length in (4, 6):
        code = allocate_code(
            CodePolicy(length, prefix_free=True), TakenCodes(prefix_free_taken, True), rng
        )
        assert all(
            not other.startswith(code) and not code.startswith(other) for other in prefix_free_taken
        )
