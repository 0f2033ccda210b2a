"""docs/offline-codes.md and the code agree: its test vectors and its figures are checked here.

Both kinds of vector are read out of the document (§15.1 issuing, §15.2 keypads), so a change
to either the specification or the model that breaks one of them fails here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from doorcode.domain.offline import (
    GuessOdds,
    KeyGroup,
    Keypad,
    KeypadSettings,
    OfflineCodec,
    Reason,
    typical_accepted_windows,
    worst_accepted_windows,
)
from doorcode.domain.offline.ff1 import FF1
from doorcode.domain.offline.window_packing import (
    WINDOW_COUNT,
    pack,
    seconds_after,
    span_of,
    unpack,
    window_of,
)
from doorcode.domain.windows import TimeWindow

SPECIFICATION = Path(__file__).parents[3] / "docs" / "offline-codes.md"
TEXT = SPECIFICATION.read_text(encoding="utf-8")


def records(name: str) -> list[list[tuple[str, str]]]:
    """The ``key: value`` records between the ``name`` markers of the specification."""
    block = TEXT.split(f"<!-- {name}: begin -->")[1].split(f"<!-- {name}: end -->")[0]
    body = block.strip().removeprefix("```text").removesuffix("```").strip()
    return [
        [(key, value) for key, value in (line.split(": ", 1) for line in record.splitlines())]
        for record in body.split("\n\n")
    ]


def vectors() -> list[dict[str, str]]:
    """The issuing and rejection vectors of §15.1, one dict each."""
    return [dict(record) for record in records("test vectors")]


def group_of(vector: dict[str, str]) -> KeyGroup:
    return KeyGroup(
        key=bytes.fromhex(vector["key"]),
        group_id=UUID(vector["group_id"]),
        epoch=instant(vector["epoch"]),
        digits=int(vector["digits"]),
    )


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def window(text: str) -> TimeWindow:
    start, end = text.split("/")
    return TimeWindow(instant(start), instant(end))


ISSUING = [vector for vector in vectors() if "requested" in vector]
REJECTED = [vector for vector in vectors() if "decrypts_to" in vector]


def test_s15_1_the_specification_has_issuing_and_rejection_vectors():
    assert len(ISSUING) >= 10
    assert {int(vector["digits"]) for vector in ISSUING} == {8, 9, 10, 11, 12}
    assert len(REJECTED) >= 2


@pytest.mark.parametrize("vector", ISSUING, ids=[vector["vector"] for vector in ISSUING])
def test_the_code_issues_what_the_specification_vectors_say(vector):
    group = group_of(vector)
    issued = OfflineCodec(group).issue(window(vector["requested"]))
    assert group.tweak.hex() == vector["tweak"]
    assert issued.issued == window(vector["issued"])
    assert pack(span_of(issued.issued, group.epoch)) == int(vector["index"])
    assert issued.code == vector["code"]


@pytest.mark.parametrize("vector", ISSUING, ids=[vector["vector"] for vector in ISSUING])
def test_the_vectors_codes_read_back_as_their_issued_windows(vector):
    assert OfflineCodec(group_of(vector)).read(vector["code"]) == window(vector["issued"])


@pytest.mark.parametrize("vector", REJECTED, ids=[vector["vector"] for vector in REJECTED])
def test_the_rejection_vectors_decrypt_past_p(vector):
    group = group_of(vector)
    value = FF1(group.key).decrypt_number(int(vector["code"]), group.digits, group.tweak)
    assert value == int(vector["decrypts_to"])
    assert value >= WINDOW_COUNT
    assert OfflineCodec(group).read(vector["code"]) is None
    if "truncated" in vector:  # §3: the 32-bit trap, a value whose low bits are a window
        assert value % 2**32 == int(vector["truncated"]) < WINDOW_COUNT


def test_the_specification_states_p_and_the_window_counts():
    for figure in ("96,076,800", "361,563", "18,489", "362,664", "19,590", "19.56"):
        assert figure in TEXT
    assert f"{WINDOW_COUNT:,}" in TEXT
    assert f"{typical_accepted_windows(activation_rule=False):,}" in TEXT
    assert f"{typical_accepted_windows(activation_rule=True):,}" in TEXT
    assert f"{worst_accepted_windows(activation_rule=False):,}" in TEXT
    assert f"{worst_accepted_windows(activation_rule=True):,}" in TEXT


def describe(time: timedelta) -> str:
    hours = time / timedelta(hours=1)
    if hours < 24:
        return f"{hours:.1f} hours"
    days = time / timedelta(days=1)
    return f"{days:.1f} days" if days < 365.25 else f"{days / 365.25:.1f} years"


@pytest.mark.parametrize("digits", [8, 9, 10, 11, 12])
def test_the_guessing_table_row_matches_the_computed_odds(digits):
    plain = GuessOdds(digits, typical_accepted_windows(activation_rule=False))
    ruled = GuessOdds(digits, typical_accepted_windows(activation_rule=True))
    lockout = timedelta(minutes=5)
    plain_time = describe(plain.expected_time(5, lockout))
    ruled_time = describe(ruled.expected_time(5, lockout))
    row = (
        f"| {digits} | 1 in {plain.expected_tries:,.0f} | 1 in {ruled.expected_tries:,.0f} | "
        f"{plain_time} | {ruled_time} |"
    )
    assert row in TEXT


@pytest.mark.parametrize(
    ("digits", "u", "v", "b", "p_block"),
    [
        (8, 4, 4, 2, "01020100000a0a04000000080000001d"),
        (10, 5, 5, 3, "01020100000a0a050000000a0000001d"),
        (12, 6, 6, 3, "01020100000a0a060000000c0000001d"),
    ],
)
def test_the_ff1_parameter_table_matches_the_standard(digits, u, v, b, p_block):
    assert (digits // 2, digits - digits // 2) == (u, v)
    assert ((10**v - 1).bit_length() + 7) // 8 == b
    expected = (
        bytes([1, 2, 1, 0, 0, 10, 10, u]) + digits.to_bytes(4, "big") + (29).to_bytes(4, "big")
    )
    assert expected.hex() == p_block
    assert re.search(rf"\| {digits} \| {u} \| {v} \| {b} \| 8 \|.*`{p_block}`", TEXT)


# -- §15.2 keypad vectors ---------------------------------------------------------------------

STEP = re.compile(r"^(?P<at>\S+) c=(?P<c>-?\d+) (?P<entry>\S+) -> (?P<answer>[a-z_]+)$")
CODE_LINE = re.compile(r"^(?P<code>\d+) X=(?P<index>\d+) window=(?P<window>\S+)$")
TRAP_LINE = re.compile(
    r"^(?P<code>\d+) X=(?P<index>\d+) X_mod_2\^32=(?P<truncated>\d+) window=(?P<window>\S+)$"
)
KEYPAD_VECTORS = records("keypad vectors")


def field(record: list[tuple[str, str]], key: str) -> str:
    (value,) = [value for name, value in record if name == key]
    return value


def fields(record: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in record if name == key]


def settings_of(record: list[tuple[str, str]]) -> KeypadSettings:
    text = field(record, "settings")
    if text == "default":
        return KeypadSettings()
    return KeypadSettings(
        **{name: int(value) for name, value in (pair.split("=") for pair in text.split())}
    )


def keypad_of(record: list[tuple[str, str]]) -> Keypad:
    group = group_of(dict(record))
    return Keypad(group, field(record, "programming_code"), settings_of(record))


def ids(records_: list[list[tuple[str, str]]]) -> list[str]:
    return [field(record, "vector") for record in records_]


def test_s15_2_the_keypad_vectors_cover_every_behaviour_the_specification_names():
    answers = {
        STEP.match(step)["answer"]  # type: ignore[index]
        for record in KEYPAD_VECTORS
        for step in fields(record, "step")
    }
    assert answers == {reason.value for reason in Reason}
    assert {int(field(record, "digits")) for record in KEYPAD_VECTORS} >= {9, 10, 11}
    assert any(fields(record, "trap") for record in KEYPAD_VECTORS)


@pytest.mark.parametrize("record", KEYPAD_VECTORS, ids=ids(KEYPAD_VECTORS))
def test_s15_2_the_keypad_vectors_codes_carry_the_windows_they_say(record):
    group = group_of(dict(record))
    codec = OfflineCodec(group)
    for line in fields(record, "code"):
        match = CODE_LINE.match(line)
        assert match, line
        assert codec.index_of(match["code"]) == int(match["index"])
        assert codec.read(match["code"]) == window(match["window"])
    for line in fields(record, "trap"):
        match = TRAP_LINE.match(line)
        assert match, line
        value = FF1(group.key).decrypt_number(int(match["code"]), group.digits, group.tweak)
        assert value == int(match["index"]) >= WINDOW_COUNT
        assert value % 2**32 == int(match["truncated"])
        assert window_of(unpack(int(match["truncated"])), group.epoch) == window(match["window"])


@pytest.mark.parametrize("record", KEYPAD_VECTORS, ids=ids(KEYPAD_VECTORS))
def test_s15_2_a_fresh_keypad_gives_every_answer_of_the_keypad_vectors(record):
    keypad = keypad_of(record)
    epoch = group_of(dict(record)).epoch
    for step in fields(record, "step"):
        match = STEP.match(step)
        assert match, step
        moment = instant(match["at"])
        assert seconds_after(epoch, moment) == int(match["c"]), step
        answer = keypad.enter(match["entry"], moment).reason.value
        assert answer == match["answer"], step
