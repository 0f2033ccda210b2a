"""`doorcode lock slots`: show and set the slots doorcode may write; bad ranges refused."""

import pytest

from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures


@pytest.fixture
def gate(doorcode):  # noqa: F811
    """A Z-Wave lock of 30 slots (its server is never asked: slots are doorcode's records)."""
    doorcode("org", "add", "acme")
    doorcode(
        "provider", "connect", "zwave_js", "--label", "Home", "--option", "url=ws://127.0.0.1:9"
    )
    doorcode(
        "lock", "add", "Gate", "--provider", "zwave_js", "--external-id", "5",
        "--max-codes", "30", "--no-native-scheduling",
    )  # fmt: skip


def test_an_operator_sees_the_default_and_narrows_it(doorcode, gate):  # noqa: F811
    shown = doorcode("lock", "slots", "Gate").output
    assert shown.strip() == "Gate: doorcode writes slots 4-30 (the default)"
    assert "slots 10-20 (set by you)" in doorcode("lock", "slots", "Gate", "10-20").output
    assert "slots 10-20 (set by you)" in doorcode("lock", "slots", "Gate").output
    assert "slots 4-30 (the default)" in doorcode("lock", "slots", "Gate", "--default").output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["20-10"], "slot range 20-10 is empty"),
        (["0-10"], "slots are numbered from 1"),
        (["10-40"], "Gate has 30 slots: 10-40 does not fit"),
        (["ten"], "slots must be written first-last, like 4-30"),
        (["10-20", "--default"], "give a range or --default, not both"),
    ],
)
def test_a_bad_range_is_refused_and_the_old_one_stays(doorcode, gate, args, says):  # noqa: F811
    doorcode("lock", "slots", "Gate", "5-25")
    refused = doorcode("lock", "slots", "Gate", *args, expect=1)
    assert says in refused.output
    assert "slots 5-25 (set by you)" in doorcode("lock", "slots", "Gate").output


def test_an_unknown_lock_is_named(doorcode, gate):  # noqa: F811
    assert "no lock 'Back door'" in doorcode("lock", "slots", "Back door", expect=1).output


@pytest.mark.parametrize("args", [["5-30"], ["--default"], []])
def test_a_lock_that_keeps_codes_by_id_has_no_slots_to_show_or_set(doorcode, gate, args):  # noqa: F811
    doorcode("lock", "add", "Flat 1 door", "--max-codes", "30")
    refused = doorcode("lock", "slots", "Flat 1 door", *args, expect=1).output
    assert refused == (
        "Error: Flat 1 door is a virtual lock: its back-end keeps codes by id, not in numbered "
        "slots (slots are for Z-Wave and Zigbee locks)\n"
    )
    assert doorcode("events").output.count("LockSlotsChanged") == 0
