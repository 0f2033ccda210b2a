"""Blocking a code at the keypad: the sequence the service writes and the lock honours."""

from __future__ import annotations

import pytest

from doorcode.domain.offline import (
    InvalidKeypadSequence,
    KeypadSequence,
    OfflineCodec,
    Reason,
    block_sequence,
)
from doorcode.domain.offline.programming import parse_sequence
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import PROGRAMMING_CODE, at, make_group, make_keypad

CODEC = OfflineCodec(make_group())
STAY = TimeWindow(at(10, 15), at(14, 11))
CODE = CODEC.issue(STAY).code


def test_the_block_sequence_is_programming_code_128_code_each_with_enter():
    sequence = block_sequence("902114", "0123456789")
    assert sequence.keys == "902114#128#0123456789#"
    assert sequence.steps() == ("902114", "Enter", "128", "Enter", "0123456789", "Enter")


def test_the_block_sequence_never_shows_in_repr():
    sequence = block_sequence("902114", "0123456789")
    assert "902114" not in repr(sequence)
    assert "0123456789" not in repr(sequence)


@pytest.mark.parametrize(("programming_code", "code"), [("12", CODE), ("90211x", CODE)])
def test_a_programming_code_is_four_to_twelve_digits(programming_code, code):
    with pytest.raises(InvalidKeypadSequence):
        block_sequence(programming_code, code)


@pytest.mark.parametrize("code", ["1234567", "1234567890123", "12345abcde"])
def test_only_codes_of_eight_to_twelve_digits_can_be_blocked(code):
    with pytest.raises(InvalidKeypadSequence):
        block_sequence(PROGRAMMING_CODE, code)


def test_the_lock_parses_what_the_service_writes():
    assert parse_sequence(block_sequence("902114", CODE).keys) == ("902114", "128", CODE)
    assert parse_sequence("902114#128#" + CODE) is None
    assert parse_sequence("90 2114#128#1#") is None


def test_a_blocked_code_no_longer_opens_within_its_window():
    keypad = make_keypad()
    assert keypad.enter(CODE, at(10, 16)).opened
    result = keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(11))
    assert result.reason is Reason.CODE_BLOCKED
    assert keypad.enter(CODE, at(11, 1)).reason is Reason.BLOCKED


def test_a_code_can_be_blocked_before_it_is_ever_used():
    keypad = make_keypad()
    keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(1))
    assert keypad.enter(CODE, at(10, 16)).reason is Reason.BLOCKED


def test_blocking_one_code_leaves_other_codes_alone():
    keypad = make_keypad()
    keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(1))
    other = CODEC.issue(TimeWindow(at(10, 15), at(14, 12))).code
    assert keypad.enter(other, at(10, 16)).opened


def test_a_wrong_programming_code_blocks_nothing():
    keypad = make_keypad()
    result = keypad.program(block_sequence("111111", CODE).keys, at(10, 15))
    assert result.reason is Reason.WRONG_PROGRAMMING_CODE
    assert keypad.enter(CODE, at(10, 16)).opened


def test_an_unknown_command_changes_nothing():
    keypad = make_keypad()
    result = keypad.program(f"{PROGRAMMING_CODE}#129#{CODE}#", at(10, 15))
    assert result.reason is Reason.UNKNOWN_COMMAND
    assert keypad.enter(CODE, at(10, 16)).opened


def test_blocking_something_that_is_not_a_code_of_the_group_is_refused():
    keypad = make_keypad()
    not_a_code = next(f"{n:010d}" for n in range(10**4) if CODEC.index_of(f"{n:010d}") is None)
    result = keypad.program(block_sequence(PROGRAMMING_CODE, not_a_code).keys, at(1))
    assert result.reason is Reason.WRONG_CODE
    assert keypad.state()["blocked"] == []


def test_blocking_a_code_of_another_group_leaves_this_groups_codes_alone():
    keypad = make_keypad()
    other_group_code = OfflineCodec(make_group(key=bytes(32))).issue(STAY).code
    keypad.program(block_sequence(PROGRAMMING_CODE, other_group_code).keys, at(1))
    assert keypad.enter(CODE, at(10, 16)).opened


def test_blocking_an_expired_code_takes_no_room():
    keypad = make_keypad(block_list_capacity=1)
    result = keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(20))
    assert result.reason is Reason.CODE_BLOCKED
    assert keypad.state()["blocked"] == []


def test_the_block_list_is_bounded():
    keypad = make_keypad(block_list_capacity=1)
    keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(1))
    other = CODEC.issue(TimeWindow(at(10, 15), at(14, 12))).code
    result = keypad.program(block_sequence(PROGRAMMING_CODE, other).keys, at(1))
    assert result.reason is Reason.BLOCK_LIST_FULL
    assert keypad.enter(other, at(10, 16)).opened


def test_the_block_list_evicts_codes_that_have_expired():
    keypad = make_keypad(block_list_capacity=1)
    keypad.program(block_sequence(PROGRAMMING_CODE, CODE).keys, at(1))
    later = CODEC.issue(TimeWindow(at(20, 15), at(24, 11))).code
    assert keypad.program(block_sequence(PROGRAMMING_CODE, later).keys, at(15)).accepted
    assert keypad.enter(later, at(20, 16)).reason is Reason.BLOCKED


def test_a_keypad_sequence_is_a_value():
    assert KeypadSequence("1#") == KeypadSequence("1#")
