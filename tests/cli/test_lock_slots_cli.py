"""`doorcode lock slots`: show and set the slots doorcode may write; bad ranges refused."""

import pytest

from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures


@pytest.fixture
def gate(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    doorcode("lock", "add", "Gate", "--max-codes", "30", "--no-native-scheduling")


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
