"""§6, §7: a lock opens for a code exactly within its window widened by the drift tolerance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorcode.domain.offline import (
    InvalidKeypadSettings,
    KeypadSettings,
    OfflineCodec,
    Reason,
)
from doorcode.domain.offline.ff1 import FF1
from doorcode.domain.offline.window_packing import HORIZON_DAYS, WINDOW_COUNT, unpack
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import EPOCH, GROUP_B, at, make_group, make_keypad, window

GROUP = make_group()
CODEC = OfflineCodec(GROUP)
TOLERANCE = timedelta(minutes=5)
SECOND = timedelta(seconds=1)

requested_windows = st.builds(
    lambda start, length: TimeWindow(EPOCH + start, EPOCH + start + length),
    st.timedeltas(timedelta(0), timedelta(days=HORIZON_DAYS) - SECOND),
    st.timedeltas(SECOND, timedelta(days=360)),
)


def moment_near(issued: TimeWindow, draw_offset: timedelta) -> timedelta:
    """An offset from two hours before the widened window to two hours after it."""
    return draw_offset % (issued.duration + 2 * TOLERANCE + timedelta(hours=4))


@settings(max_examples=400)
@given(requested_windows, st.timedeltas(timedelta(0), timedelta(days=400)))
def test_s6_every_code_opens_exactly_within_its_window_plus_tolerance(requested, offset):
    issued = CODEC.issue(requested)
    moment = (
        issued.issued.starts_at
        - TOLERANCE
        - timedelta(hours=2)
        + moment_near(issued.issued, offset)
    )
    opened = make_keypad(activation_rule=False).enter(issued.code, moment).opened
    widened = TimeWindow(issued.issued.starts_at - TOLERANCE, issued.issued.ends_at + TOLERANCE)
    assert opened == widened.contains(moment)


@settings(max_examples=400)
@given(requested_windows, st.timedeltas(timedelta(0), timedelta(days=400)))
def test_s7_a_first_entry_opens_only_in_the_window_and_its_first_day(requested, offset):
    issued = CODEC.issue(requested)
    moment = (
        issued.issued.starts_at
        - TOLERANCE
        - timedelta(hours=2)
        + moment_near(issued.issued, offset)
    )
    opened = make_keypad().enter(issued.code, moment).opened
    start, end = issued.issued.starts_at, issued.issued.ends_at
    if issued.issued.duration > timedelta(hours=24):
        end = min(end, start + timedelta(hours=24))
    assert opened == (start - TOLERANCE <= moment < end + TOLERANCE)


def test_s6_code_opens_from_its_start_minus_tolerance():
    code = CODEC.issue(window(at(10, 15), 20)).code
    assert make_keypad().enter(code, at(10, 15) - TOLERANCE).reason is Reason.OPENED


def test_s6_code_never_opens_before_its_start_minus_tolerance():
    code = CODEC.issue(window(at(10, 15), 20)).code
    result = make_keypad().enter(code, at(10, 15) - TOLERANCE - SECOND)
    assert result.reason is Reason.NOT_YET_VALID


def test_s6_code_opens_until_the_last_second_of_its_window_plus_tolerance():
    code = CODEC.issue(window(at(10, 15), 20)).code
    assert make_keypad().enter(code, at(11, 11) + TOLERANCE - SECOND).opened


def test_s6_code_never_opens_after_its_window_plus_tolerance():
    code = CODEC.issue(window(at(10, 15), 20)).code
    assert make_keypad().enter(code, at(11, 11) + TOLERANCE).reason is Reason.EXPIRED


def test_s6_the_tolerance_is_configurable():
    code = CODEC.issue(window(at(10, 15), 20)).code
    strict = make_keypad(tolerance=timedelta(0))
    assert strict.enter(code, at(10, 15) - SECOND).reason is Reason.NOT_YET_VALID
    assert strict.enter(code, at(10, 15)).opened
    assert strict.enter(code, at(11, 11)).reason is Reason.EXPIRED


@pytest.mark.parametrize(
    "tolerance", [timedelta(minutes=31), timedelta(seconds=-1), timedelta(milliseconds=1)]
)
def test_s6_tolerances_beyond_half_an_hour_or_below_a_second_are_refused(tolerance):
    with pytest.raises(InvalidKeypadSettings):
        KeypadSettings(tolerance=tolerance)


@settings(max_examples=300)
@given(requested_windows, st.timedeltas(timedelta(0), timedelta(days=400)))
def test_s6_a_code_for_group_a_never_opens_a_lock_of_group_b(requested, offset):
    issued = CODEC.issue(requested)
    moment = issued.issued.starts_at + offset % issued.issued.duration
    other_key = make_keypad(make_group(key=bytes(range(1, 33))), activation_rule=False)
    same_key_other_id = make_keypad(make_group(group_id=GROUP_B), activation_rule=False)
    assert not other_key.enter(issued.code, moment).opened
    assert not same_key_other_id.enter(issued.code, moment).opened


def test_s6_a_code_opens_every_lock_of_its_group():
    code = CODEC.issue(window(at(10, 15), 20)).code
    front, back = make_keypad(), make_keypad()
    assert front.enter(code, at(10, 16)).opened
    assert back.enter(code, at(10, 17)).opened


def test_s7_a_long_code_must_first_be_used_within_a_day_of_its_start():
    code = CODEC.issue(TimeWindow(at(10, 15), at(20, 11))).code
    assert make_keypad().enter(code, at(11, 15, 5)).reason is Reason.NOT_ACTIVATED_IN_TIME


def test_s7_a_long_code_used_on_its_first_day_keeps_opening_to_its_end():
    code = CODEC.issue(TimeWindow(at(10, 15), at(20, 11))).code
    keypad = make_keypad()
    assert keypad.enter(code, at(11, 15, 4)).opened
    assert keypad.enter(code, at(19, 9)).opened
    assert keypad.enter(code, at(20, 11, 5)).reason is Reason.EXPIRED


def test_s7_a_code_of_a_day_or_less_needs_no_activation_and_takes_no_table_entry():
    keypad = make_keypad(activation_capacity=1)
    day_code = CODEC.issue(window(at(10, 12), 24)).code
    assert keypad.enter(day_code, at(11, 11)).opened
    assert keypad.state()["activated"] == []


def test_s7_without_the_activation_rule_a_long_code_opens_on_any_day():
    code = CODEC.issue(TimeWindow(at(10, 15), at(20, 11))).code
    assert make_keypad(activation_rule=False).enter(code, at(18)).opened


def test_s7_the_activation_table_is_bounded():
    keypad = make_keypad(activation_capacity=2)
    for start_hour in (0, 6):
        code = CODEC.issue(TimeWindow(at(10, start_hour), at(15))).code
        assert keypad.enter(code, at(10, 7)).opened
    third = CODEC.issue(TimeWindow(at(10, 3), at(16))).code
    assert keypad.enter(third, at(10, 8)).reason is Reason.ACTIVATION_TABLE_FULL


def test_s7_the_activation_table_evicts_expired_codes_to_make_room():
    keypad = make_keypad(activation_capacity=1)
    assert keypad.enter(CODEC.issue(TimeWindow(at(10), at(12))).code, at(10, 1)).opened
    later = CODEC.issue(TimeWindow(at(12), at(14))).code
    assert keypad.enter(later, at(12, 1)).opened
    assert len(keypad.state()["activated"]) == 1


def test_s6_entries_that_are_not_codes_of_the_group_length_are_wrong():
    keypad = make_keypad()
    for entry in ("", "12", "123456789012", "12345678ab", "١٢٣٤٥٦٧٨٩٠"):
        assert keypad.enter(entry, at(10)).reason is Reason.WRONG_CODE


TRAP_CODE = "0879521323"  # decrypts to 4,353,130,483: more than 32 bits hold


def test_s3_a_code_past_32_bits_is_refused_where_its_truncation_would_open():
    truncated = FF1(GROUP.key).decrypt_number(int(TRAP_CODE), 10, GROUP.tweak) % 2**32
    assert truncated < WINDOW_COUNT  # a verifier that narrows X first would see a window
    start, _ = unpack(truncated)
    inside = EPOCH + timedelta(seconds=start + 3600)
    keypad = make_keypad()
    assert keypad.enter(TRAP_CODE, inside).reason is Reason.WRONG_CODE
    assert keypad.enter(CODEC.code_for(truncated), inside + SECOND).opened


def test_s6_the_first_window_opens_from_tolerance_before_the_epoch():
    first = CODEC.code_for(0)
    assert make_keypad().enter(first, EPOCH - TOLERANCE - SECOND).reason is Reason.NOT_YET_VALID
    assert make_keypad().enter(first, EPOCH - TOLERANCE).opened
