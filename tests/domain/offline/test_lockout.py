"""§10 Lockout: after a run of wrong entries the keypad refuses everything for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doorcode.domain.offline import InvalidKeypadSettings, KeypadSettings, OfflineCodec, Reason
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import at, make_group, make_keypad

CODEC = OfflineCodec(make_group())
CODE = CODEC.issue(TimeWindow(at(10, 15), at(14, 11))).code
WRONG = next(f"{n:010d}" for n in range(10**4) if CODEC.index_of(f"{n:010d}") is None)
START = at(11, 9)


def miss(keypad, times, start=START):
    for attempt in range(times):
        assert not keypad.enter(WRONG, start + timedelta(seconds=attempt)).opened


def test_s10_five_wrong_entries_lock_the_keypad_even_against_the_right_code():
    keypad = make_keypad()
    miss(keypad, 5)
    assert keypad.enter(CODE, START + timedelta(seconds=30)).reason is Reason.LOCKED_OUT


def test_s10_four_wrong_entries_do_not_lock_the_keypad():
    keypad = make_keypad()
    miss(keypad, 4)
    assert keypad.enter(CODE, START + timedelta(seconds=30)).opened


def test_s10_the_keypad_opens_again_five_minutes_after_the_fifth_miss():
    keypad = make_keypad()
    miss(keypad, 5)
    fifth = START + timedelta(seconds=4)
    assert keypad.enter(CODE, fifth + timedelta(minutes=5) - timedelta(seconds=1)).reason is (
        Reason.LOCKED_OUT
    )
    assert keypad.enter(CODE, fifth + timedelta(minutes=5)).opened


def test_s10_entries_during_a_lockout_neither_count_nor_extend_it():
    keypad = make_keypad()
    miss(keypad, 5)
    for second in range(10, 200, 10):
        assert keypad.enter(WRONG, START + timedelta(seconds=second)).reason is Reason.LOCKED_OUT
    assert keypad.enter(CODE, START + timedelta(seconds=4, minutes=5)).opened


def test_s10_an_opening_resets_the_count():
    keypad = make_keypad()
    miss(keypad, 4)
    assert keypad.enter(CODE, START + timedelta(seconds=10)).opened
    miss(keypad, 4, start=START + timedelta(seconds=20))
    assert keypad.enter(CODE, START + timedelta(seconds=40)).opened


def test_s10_every_kind_of_refusal_counts():
    keypad = make_keypad()
    assert keypad.enter(CODE, at(9)).reason is Reason.NOT_YET_VALID
    assert keypad.enter(CODE, at(15)).reason is Reason.EXPIRED
    assert keypad.enter("86421", at(15)).reason is Reason.WRONG_CODE
    assert keypad.program("*111111#128#1#", at(15)).reason is Reason.WRONG_PROGRAMMING_CODE
    assert keypad.enter("12", at(15)).reason is Reason.WRONG_CODE
    assert keypad.enter(CODE, at(11)).reason is Reason.LOCKED_OUT


def test_s10_a_locked_keypad_refuses_programming_and_pin_registration():
    keypad = make_keypad()
    miss(keypad, 5)
    assert keypad.program("*902114#128#" + CODE + "#", START + timedelta(seconds=9)).reason is (
        Reason.LOCKED_OUT
    )
    assert keypad.enter("7595", START + timedelta(seconds=9)).reason is Reason.LOCKED_OUT


def test_s10_the_lockout_is_configurable():
    keypad = make_keypad(lockout_after=3, lockout_for=timedelta(minutes=30))
    miss(keypad, 3)
    assert keypad.enter(CODE, START + timedelta(minutes=29)).reason is Reason.LOCKED_OUT
    assert keypad.enter(CODE, START + timedelta(minutes=31)).opened


@pytest.mark.parametrize(
    "settings",
    [{"lockout_after": 0}, {"lockout_for": timedelta(seconds=-1)}, {"activation_capacity": 0}],
)
def test_settings_that_disable_protection_are_refused(settings):
    with pytest.raises(InvalidKeypadSettings):
        KeypadSettings(**settings)
