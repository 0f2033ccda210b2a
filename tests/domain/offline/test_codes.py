"""§4, §5 Issuing and reading codes: every window round-trips; codes belong to one group."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorcode.domain.errors import CodeSpaceExhausted
from doorcode.domain.offline import (
    OfflineCodec,
    OfflineWindowUnsupported,
    issue_offline_code,
    read_offline_code,
)
from doorcode.domain.offline.window_packing import HORIZON_DAYS
from doorcode.domain.windows import TimeWindow
from tests.domain.offline.builders import EPOCH, GROUP_B, at, make_group

CODEC = OfflineCodec(make_group())
HORIZON = timedelta(days=HORIZON_DAYS)

requested_windows = st.builds(
    lambda start, length: TimeWindow(EPOCH + start, EPOCH + start + length),
    st.timedeltas(timedelta(0), HORIZON - timedelta(microseconds=1)),
    st.timedeltas(timedelta(microseconds=1), timedelta(days=363)),
)


@settings(max_examples=500)
@given(requested_windows)
def test_a_code_reads_back_as_the_window_it_was_issued_for(requested):
    issued = CODEC.issue(requested)
    assert CODEC.read(issued.code) == issued.issued


@settings(max_examples=500)
@given(requested_windows)
def test_the_issued_window_always_covers_the_requested_one(requested):
    issued = CODEC.issue(requested)
    assert issued.issued.covers(requested)
    assert issued.requested == requested


@given(requested_windows, st.sampled_from([8, 9, 10, 11, 12]))
def test_codes_have_the_group_length_in_decimal_digits(requested, digits):
    code = OfflineCodec(make_group(digits=digits)).issue(requested).code
    assert len(code) == digits
    assert code.isascii()
    assert code.isdigit()


def test_the_result_says_which_window_was_actually_issued():
    issued = issue_offline_code(make_group(), TimeWindow(at(3, 15, 30), at(7, 10, 45)))
    assert issued.issued == TimeWindow(at(3, 15), at(7, 11))


def test_issuing_is_deterministic_for_one_group():
    requested = TimeWindow(at(40, 15), at(44, 11))
    assert issue_offline_code(make_group(), requested) == issue_offline_code(
        make_group(), requested
    )


@given(requested_windows)
def test_another_group_reads_a_code_as_another_window_or_none(requested):
    code = CODEC.issue(requested).code
    other = OfflineCodec(make_group(key=bytes(range(1, 33))))
    assert other.read(code) != CODEC.read(code)


@given(requested_windows)
def test_the_same_key_under_another_group_id_gives_other_codes(requested):
    twin = OfflineCodec(make_group(group_id=GROUP_B))
    assert twin.issue(requested).code != CODEC.issue(requested).code


def test_the_same_key_with_another_code_length_gives_unrelated_codes():
    requested = TimeWindow(at(40, 15), at(44, 11))
    ten = OfflineCodec(make_group(digits=10)).issue(requested).code
    eleven = OfflineCodec(make_group(digits=11)).issue(requested).code
    assert not eleven.startswith(ten)
    assert not eleven.endswith(ten)


def test_codes_to_avoid_move_the_end_by_one_step():
    requested = TimeWindow(at(40, 15), at(44, 11))
    first = CODEC.issue(requested)
    second = CODEC.issue(requested, avoiding={first.code})
    assert second.code != first.code
    assert second.issued == TimeWindow(at(40, 15), at(44, 12))
    assert second.issued.covers(requested)


def test_avoiding_at_thirty_two_days_moves_on_to_whole_days():
    requested = TimeWindow(at(40, 0), at(72, 0))
    first = CODEC.issue(requested)
    second = CODEC.issue(requested, avoiding={first.code})
    assert second.issued == TimeWindow(at(40), at(73))


def test_avoiding_gives_up_when_every_nearby_window_is_taken():
    class Everything:
        def __contains__(self, code: object) -> bool:
            return True

    with pytest.raises(CodeSpaceExhausted):
        CODEC.issue(TimeWindow(at(40, 15), at(44, 11)), avoiding=Everything())


def test_avoiding_at_a_year_cannot_widen_further():
    requested = TimeWindow(at(0), at(365))
    first = CODEC.issue(requested)
    with pytest.raises(CodeSpaceExhausted):
        CODEC.issue(requested, avoiding={first.code})


@pytest.mark.parametrize("code", ["", "123", "12345678901", "12345 6789", "١٢٣٤٥٦٧٨٩٠"])
def test_reading_anything_but_a_code_of_the_group_length_gives_none(code):
    assert read_offline_code(make_group(), code) is None


def test_reading_a_number_that_is_not_a_window_gives_none():
    misses = [f"{n:010d}" for n in range(0, 10**10, 10**10 // 400)]
    read = [CODEC.read(code) for code in misses]
    assert None in read  # about 99 % of ten-digit codes carry no window at all
    assert sum(window is not None for window in read) < 20


def test_windows_before_the_epoch_are_unsupported():
    with pytest.raises(OfflineWindowUnsupported):
        CODEC.issue(TimeWindow(EPOCH - timedelta(hours=1), EPOCH + timedelta(hours=1)))


def test_windows_starting_past_the_horizon_are_unsupported():
    start = EPOCH + HORIZON
    with pytest.raises(OfflineWindowUnsupported):
        CODEC.issue(TimeWindow(start, start + timedelta(hours=1)))


def test_the_code_never_shows_in_repr():
    issued = CODEC.issue(TimeWindow(at(3, 15), at(7, 11)))
    assert issued.code not in repr(issued)
    assert "masked" in repr(CODEC)


def test_a_code_whose_window_ends_past_the_horizon_still_reads_back():
    start = EPOCH + HORIZON - timedelta(days=1)
    issued = CODEC.issue(TimeWindow(start, start + timedelta(days=300)))
    assert CODEC.read(issued.code) == issued.issued
    assert issued.issued.duration == timedelta(days=300)
    assert issued.issued.ends_at > EPOCH + HORIZON


class Recording:
    """Codes to avoid: every code; remembers each one the issuer asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __contains__(self, code: object) -> bool:
        self.asked.append(str(code))
        return True


def test_s4_the_issuer_tries_the_cover_and_then_exactly_24_widenings():
    avoiding = Recording()
    requested = TimeWindow(at(40, 15), at(44, 11))
    with pytest.raises(CodeSpaceExhausted):
        CODEC.issue(requested, avoiding=avoiding)
    assert len(avoiding.asked) == 25
    last = CODEC.read(avoiding.asked[-1])
    assert last == TimeWindow(at(40, 15), at(44, 11 + 24))


def test_s4_the_24th_widening_is_issued_when_it_is_the_first_free_one():
    requested = TimeWindow(at(40, 15), at(44, 11))
    taken = {CODEC.issue(TimeWindow(at(40, 15), at(44, 11 + hours))).code for hours in range(24)}
    issued = CODEC.issue(requested, avoiding=taken)
    assert issued.issued == TimeWindow(at(40, 15), at(44, 11 + 24))
