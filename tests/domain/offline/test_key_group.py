"""§1, §5, §13 Key groups: what every lock of a group holds, checked, masked, in the tweak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorcode.domain.offline import InvalidKeyGroup, KeyGroup
from tests.domain.offline.builders import EPOCH, GROUP_A, make_group


def test_the_tweak_spells_format_digits_epoch_and_group_id():
    group = make_group(digits=10)
    tweak = group.tweak
    assert len(tweak) == 29
    assert tweak[:4] == b"DCO1"
    assert tweak[4] == 10
    assert int.from_bytes(tweak[5:13], "big") == 1_767_225_600  # 2026-01-01T00:00:00Z
    assert tweak[13:] == GROUP_A.bytes


def test_the_epoch_is_kept_in_utc():
    local = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    group = make_group(epoch=local)
    assert group.epoch == EPOCH
    assert group.epoch.tzinfo is UTC


def test_the_key_never_shows_in_repr_or_str():
    key = bytes(range(100, 132))
    group = make_group(key=key)
    for text in (repr(group), str(group)):
        assert key.hex() not in text
        assert repr(key) not in text
        assert "masked" in text


def test_generate_draws_the_key_from_the_given_source():
    group = KeyGroup.generate(GROUP_A, EPOCH, token_bytes=lambda size: b"\x07" * size)
    assert group.key == b"\x07" * 32
    assert group.digits == 10


def test_generate_uses_fresh_randomness_by_default():
    assert KeyGroup.generate(GROUP_A, EPOCH).key != KeyGroup.generate(GROUP_A, EPOCH).key


def test_rotation_keeps_the_group_and_replaces_the_key():
    group = make_group()
    rotated = group.rotated(token_bytes=lambda size: b"\x09" * size)
    assert rotated.key == b"\x09" * 32
    assert (rotated.group_id, rotated.epoch, rotated.digits) == (
        group.group_id,
        group.epoch,
        group.digits,
    )


def test_rotation_can_move_the_epoch_forward():
    later = EPOCH + timedelta(days=4000)
    assert make_group().rotated(epoch=later).epoch == later


@pytest.mark.parametrize("size", [16, 24, 31, 33])
def test_only_256_bit_keys_are_accepted(size):
    with pytest.raises(InvalidKeyGroup, match="32 bytes"):
        make_group(key=bytes(size))


@pytest.mark.parametrize("digits", [7, 13])
def test_codes_have_eight_to_twelve_digits(digits):
    with pytest.raises(InvalidKeyGroup, match="8 to 12"):
        make_group(digits=digits)


def test_a_naive_epoch_is_refused():
    with pytest.raises(InvalidKeyGroup, match="aware"):
        make_group(epoch=datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "epoch",
    [EPOCH + timedelta(microseconds=1), datetime(1969, 12, 31, tzinfo=UTC)],
)
def test_the_epoch_is_a_whole_second_after_1970(epoch):
    with pytest.raises(InvalidKeyGroup, match="whole second"):
        make_group(epoch=epoch)


def test_short_pin_tags_use_a_key_derived_from_but_unlike_the_group_key():
    group = make_group()
    assert len(group.short_pin_key()) == 32
    assert group.short_pin_key() != group.key
    assert group.short_pin_key() != make_group(key=bytes(32)).short_pin_key()
