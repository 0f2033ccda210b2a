"""§8 Blocking a code at the keypad: the sequence the service writes and the lock honours."""

from __future__ import annotations

from datetime import timedelta

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
WRONG = next(f"{n:010d}" for n in range(10**4) if CODEC.index_of(f"{n:010d}") is None)
SECOND = timedelta(seconds=1)


def block(keypad, code, moment):
    return keypad.program(block_sequence(PROGRAMMING_CODE, code).keys, moment)


def test_s8_the_block_sequence_is_star_programming_code_128_code_each_with_enter():
    sequence = block_sequence("902114", "0123456789")
    assert sequence.keys == "*902114#128#0123456789#"
    assert sequence.steps() == ("*902114", "Enter", "128", "Enter", "0123456789", "Enter")


def test_s8_the_block_sequence_never_shows_in_repr():
    sequence = block_sequence("902114", "0123456789")
    assert "902114" not in repr(sequence)
    assert "0123456789" not in repr(sequence)


@pytest.mark.parametrize(("programming_code", "code"), [("12", CODE), ("90211x", CODE)])
def test_s8_a_programming_code_is_four_to_twelve_digits(programming_code, code):
    with pytest.raises(InvalidKeypadSequence):
        block_sequence(programming_code, code)


@pytest.mark.parametrize("code", ["1234567", "1234567890123", "12345abcde"])
def test_s8_only_codes_of_eight_to_twelve_digits_can_be_blocked(code):
    with pytest.raises(InvalidKeypadSequence):
        block_sequence(PROGRAMMING_CODE, code)


def test_s8_the_lock_parses_what_the_service_writes():
    assert parse_sequence(block_sequence("902114", CODE).keys) == ("*902114", "128", CODE)
    assert parse_sequence("*902114#128#" + CODE) is None
    assert parse_sequence("902114#128#" + CODE + "#") is None
    assert parse_sequence("*90 2114#128#1#") is None


def test_s8_a_sequence_without_a_final_enter_cannot_be_typed():
    with pytest.raises(InvalidKeypadSequence):
        make_keypad().program(f"*{PROGRAMMING_CODE}#128#{CODE}", at(11))


def test_s8_each_part_is_answered_and_a_blocked_code_no_longer_opens_within_its_window():
    keypad = make_keypad()
    assert keypad.enter(CODE, at(10, 16)).opened
    assert keypad.enter("*" + PROGRAMMING_CODE, at(11)).reason is Reason.AWAITING_COMMAND
    assert keypad.enter("128", at(11) + 30 * SECOND).reason is Reason.AWAITING_CODE
    assert keypad.enter(CODE, at(11) + 60 * SECOND).reason is Reason.CODE_BLOCKED
    assert keypad.enter(CODE, at(11, 1)).reason is Reason.BLOCKED


def test_s8_a_part_more_than_thirty_seconds_late_is_an_ordinary_entry():
    keypad = make_keypad()
    assert keypad.enter("*" + PROGRAMMING_CODE, at(11)).accepted
    assert keypad.enter("128", at(11) + 31 * SECOND).reason is Reason.WRONG_CODE
    assert keypad.state()["failures"] == 1
    assert keypad.enter(CODE, at(11) + 40 * SECOND).opened


def test_s8_a_code_more_than_thirty_seconds_after_the_command_opens_instead_of_blocking():
    keypad = make_keypad()
    keypad.enter("*" + PROGRAMMING_CODE, at(11))
    keypad.enter("128", at(11) + 10 * SECOND)
    assert keypad.enter(CODE, at(11) + 41 * SECOND).opened
    assert keypad.state()["blocked"] == []


def test_s8_a_star_entry_starts_the_sequence_again_whatever_was_pending():
    keypad = make_keypad()
    keypad.enter("*" + PROGRAMMING_CODE, at(11))
    assert keypad.enter("*" + PROGRAMMING_CODE, at(11) + SECOND).reason is Reason.AWAITING_COMMAND
    assert keypad.enter("128", at(11) + 2 * SECOND).reason is Reason.AWAITING_CODE


def test_s8_the_programming_code_without_its_star_is_an_ordinary_entry_and_a_miss():
    keypad = make_keypad()
    assert keypad.enter(PROGRAMMING_CODE, at(11)).reason is Reason.WRONG_CODE
    assert keypad.enter("128", at(11) + SECOND).reason is Reason.WRONG_CODE
    assert keypad.state()["failures"] == 2


def test_s8_a_block_can_come_before_the_code_is_ever_used():
    keypad = make_keypad()
    block(keypad, CODE, at(1))
    assert keypad.enter(CODE, at(10, 16)).reason is Reason.BLOCKED


def test_s8_blocking_one_code_leaves_other_codes_alone():
    keypad = make_keypad()
    block(keypad, CODE, at(1))
    other = CODEC.issue(TimeWindow(at(10, 15), at(14, 12))).code
    assert keypad.enter(other, at(10, 16)).opened


def test_s8_2_a_wrong_programming_code_blocks_nothing_and_is_a_miss():
    keypad = make_keypad()
    wrong = keypad.program(block_sequence("111111", CODE).keys, at(10, 15))
    assert wrong.reason is Reason.WRONG_PROGRAMMING_CODE
    assert keypad.state()["failures"] == 1
    assert keypad.enter(CODE, at(10, 16)).opened


def test_s8_2_a_right_programming_code_starts_the_miss_count_again():
    keypad = make_keypad()
    for second in range(4):
        keypad.enter(WRONG, at(11) + second * SECOND)
    keypad.enter("*" + PROGRAMMING_CODE, at(11) + 5 * SECOND)
    assert keypad.state()["failures"] == 0


def test_s8_3_an_unknown_command_ends_the_sequence_changes_nothing_and_is_no_miss():
    keypad = make_keypad()
    result = keypad.program(f"*{PROGRAMMING_CODE}#129#{CODE}#", at(10, 15))
    assert result.reason is Reason.UNKNOWN_COMMAND
    assert keypad.state()["failures"] == 0
    assert keypad.enter(CODE, at(10, 16)).opened


def test_s8_4_blocking_something_that_is_not_a_code_of_the_group_is_refused_and_no_miss():
    keypad = make_keypad()
    assert block(keypad, WRONG, at(1)).reason is Reason.WRONG_CODE
    assert keypad.state()["blocked"] == []
    assert keypad.state()["failures"] == 0


def test_s8_4_a_part_of_the_wrong_length_is_a_wrong_code_and_ends_the_sequence():
    keypad = make_keypad()
    assert keypad.program(f"*{PROGRAMMING_CODE}#128#12345#", at(1)).reason is Reason.WRONG_CODE
    assert keypad.enter(CODE, at(1) + SECOND).reason is Reason.NOT_YET_VALID


def test_s8_blocking_a_code_of_another_group_leaves_this_groups_codes_alone():
    keypad = make_keypad()
    other_group_code = OfflineCodec(make_group(key=bytes(32))).issue(STAY).code
    block(keypad, other_group_code, at(1))
    assert keypad.enter(CODE, at(10, 16)).opened


def test_s8_5_blocking_an_expired_code_takes_no_room():
    keypad = make_keypad(block_list_capacity=1)
    assert block(keypad, CODE, at(20)).reason is Reason.CODE_BLOCKED
    assert keypad.state()["blocked"] == []


def test_s8_5_the_block_list_is_bounded_and_a_full_list_is_no_miss():
    keypad = make_keypad(block_list_capacity=1)
    block(keypad, CODE, at(1))
    other = CODEC.issue(TimeWindow(at(10, 15), at(14, 12))).code
    assert block(keypad, other, at(1)).reason is Reason.BLOCK_LIST_FULL
    assert keypad.state()["failures"] == 0
    assert keypad.enter(other, at(10, 16)).opened


def test_s8_5_the_block_list_evicts_codes_that_have_expired():
    keypad = make_keypad(block_list_capacity=1)
    block(keypad, CODE, at(1))
    later = CODEC.issue(TimeWindow(at(20, 15), at(24, 11))).code
    assert block(keypad, later, at(15)).accepted
    assert keypad.enter(later, at(20, 16)).reason is Reason.BLOCKED


def test_s8_6_blocking_forgets_the_activation_of_the_code():
    keypad = make_keypad()
    assert keypad.enter(CODE, at(10, 16)).opened
    block(keypad, CODE, at(11))
    assert keypad.state()["activated"] == []


def test_a_keypad_sequence_is_a_value():
    assert KeypadSequence("1#") == KeypadSequence("1#")
