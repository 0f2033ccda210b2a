"""§11 A lock survives a restart through a plain dict that holds no secret."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from doorcode.domain.offline import (
    CorruptKeypadState,
    InvalidKeypadSettings,
    Keypad,
    OfflineCodec,
    Reason,
    block_sequence,
)
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import PROGRAMMING_CODE, at, make_group, make_keypad

GROUP = make_group()
EMPTY_STATE = {
    "version": 2,
    "failures": 0,
    "locked_until": None,
    "blocked": [],
    "activated": [],
    "short_pins": [],
    "pending": None,
}
CODEC = OfflineCodec(GROUP)
CODE = CODEC.issue(TimeWindow(at(10, 15), at(20, 11))).code
BLOCKED = CODEC.issue(TimeWindow(at(10, 15), at(20, 12))).code


def busy_keypad():
    keypad = make_keypad()
    keypad.program(block_sequence(PROGRAMMING_CODE, BLOCKED).keys, at(10))
    assert keypad.enter(CODE, at(10, 16)).opened
    assert keypad.enter("7595", at(10, 16, 0, 5)).reason is Reason.PIN_REGISTERED
    keypad.enter("0000", at(10, 17))
    return keypad


def restarted(keypad):
    saved = json.loads(json.dumps(keypad.state()))
    return Keypad.restore(GROUP, PROGRAMMING_CODE, saved)


def test_the_state_is_plain_json():
    state = busy_keypad().state()
    assert json.loads(json.dumps(state)) == state


def test_a_restarted_lock_remembers_blocks_activations_pins_and_misses():
    keypad = restarted(busy_keypad())
    assert keypad.enter(BLOCKED, at(10, 18)).reason is Reason.BLOCKED
    assert keypad.enter(CODE, at(15)).opened  # activated on day 10, so day 15 still opens
    assert keypad.enter("7595", at(15, 1)).opened
    assert keypad.state()["failures"] == 0


def test_a_restarted_lock_carries_on_counting_misses():
    keypad = make_keypad()
    for second in range(4):
        keypad.enter("0000", at(10, 0, 0, second))
    keypad = restarted(keypad)
    keypad.enter("0000", at(10, 0, 0, 5))
    assert keypad.enter(CODE, at(10, 0, 2)).reason is Reason.LOCKED_OUT
    keypad = restarted(keypad)
    assert keypad.enter(CODE, at(10, 0, 4)).reason is Reason.LOCKED_OUT
    assert keypad.enter(CODE, at(10, 0, 6)).reason is Reason.NOT_YET_VALID


def test_a_restarted_lock_still_allows_the_pin_registration_it_was_waiting_for():
    keypad = make_keypad()
    keypad.enter(CODE, at(10, 16))
    keypad = restarted(keypad)
    assert keypad.enter("7595", at(10, 16, 0, 3)).reason is Reason.PIN_REGISTERED


def test_s11_a_state_saved_by_version_1_still_allows_the_registration_it_waited_for():
    keypad = make_keypad()
    keypad.enter(CODE, at(10, 16))
    saved = keypad.state()
    pending = saved.pop("pending")
    saved |= {
        "version": 1,
        "last_open": {"window_index": pending["window_index"], "at": pending["at"]},
    }
    restored = Keypad.restore(GROUP, PROGRAMMING_CODE, saved)
    assert restored.enter("7595", at(10, 16, 0, 3)).reason is Reason.PIN_REGISTERED


def test_s11_a_restarted_lock_carries_on_a_programming_sequence():
    keypad = make_keypad()
    keypad.enter("*" + PROGRAMMING_CODE, at(10))
    keypad = restarted(keypad)
    assert keypad.enter("128", at(10, 0, 0, 20)).reason is Reason.AWAITING_CODE
    keypad = restarted(keypad)
    assert keypad.enter(BLOCKED, at(10, 0, 0, 40)).reason is Reason.CODE_BLOCKED


def test_the_state_holds_no_code_pin_key_or_programming_code():
    text = json.dumps(busy_keypad().state())
    for secret in (CODE, BLOCKED, "7595", PROGRAMMING_CODE, GROUP.key.hex()):
        assert secret not in text


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"version": 2},
        {"version": 1, "failures": -1},
        {
            "version": 1,
            "failures": 0,
            "locked_until": "2026-01-01T00:00:00",
            "blocked": [],
            "activated": [],
            "short_pins": [],
            "last_open": None,
        },
        {
            "version": 1,
            "failures": 0,
            "locked_until": None,
            "blocked": ["1"],
            "activated": [],
            "short_pins": [],
            "last_open": None,
        },
        {
            "version": 1,
            "failures": 0,
            "locked_until": None,
            "blocked": [],
            "activated": [96_076_800],
            "short_pins": [],
            "last_open": None,
        },
        {**EMPTY_STATE, "pending": {"stage": "menu", "at": "2026-01-01T00:00:00+00:00"}},
        {
            **EMPTY_STATE,
            "pending": {"stage": "registration", "at": "2026-01-01T00:00:00+00:00"},
        },
        {
            **EMPTY_STATE,
            "pending": {"stage": "code", "at": "2026-01-01T00:00:00+00:00", "window_index": 5},
        },
    ],
)
def test_s11_a_corrupt_state_is_refused(state):
    with pytest.raises(CorruptKeypadState):
        Keypad.restore(GROUP, PROGRAMMING_CODE, state)


def test_the_keypad_masks_its_secrets_in_repr():
    text = repr(make_keypad())
    assert PROGRAMMING_CODE not in text
    assert GROUP.key.hex() not in text


@pytest.mark.parametrize("programming_code", ["123", "1234567890123", "12a4"])
def test_a_lock_needs_a_programming_code_of_four_to_twelve_digits(programming_code):
    with pytest.raises(InvalidKeypadSettings):
        Keypad(GROUP, programming_code)


def test_reprovisioning_clears_the_block_list_of_the_old_key():
    keypad = busy_keypad()
    rotated = GROUP.rotated(token_bytes=lambda size: b"\x05" * size)
    keypad.reprovision(rotated)
    same_window = OfflineCodec(rotated).issue(TimeWindow(at(10, 15), at(20, 12))).code
    assert keypad.enter(same_window, at(10, 18)).opened
    assert keypad.enter(CODE, at(10, 18) + timedelta(seconds=1)).reason is not Reason.OPENED
