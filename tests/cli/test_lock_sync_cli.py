"""Lock sync from the command line: sync, codes, keypad, alerts, worker; bad input refused."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures

# The CLI runs on the process's clock: a stay that began yesterday, whatever day it is.
STAYING_SINCE = (datetime.now(UTC) - timedelta(days=1)).date()


@pytest.fixture
def booked(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    doorcode("property", "add", "Flat 1", "--zone", "UTC", "--external-id", "f1")
    doorcode("lock", "add", "Front door", "--property", "f1")
    doorcode(
        "lock", "add", "Cabin keypad", "--offline", "--offline-codes", "--no-native-scheduling"
    )
    doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(STAYING_SINCE),
        "--check-out",
        str(STAYING_SINCE + timedelta(days=30)),
        "--guest",
        "Ada",
        "--external-id",
        "X1",
    )
    grant = json.loads(doorcode("grant", "list", "--json").output)[0]["id"]
    code = doorcode("grant", "show", grant, "--reveal").output.rstrip().splitlines()[-1][6:]
    return grant, code


def test_an_operator_syncs_looks_and_types_the_code(doorcode, booked):  # noqa: F811
    grant, code = booked
    synced = doorcode("lock", "sync").output
    assert "1 created" in synced
    listed = doorcode("lock", "list").output
    assert "1 set" in listed
    shown = doorcode("lock", "codes", "Front door").output
    assert "present" in shown
    assert code not in shown
    as_json = json.loads(doorcode("lock", "codes", "Front door", "--json").output)
    assert as_json["codes"][0]["status"] == "set"
    assert doorcode("keypad", "enter", "Front door", code).output.strip() == f"OPEN ({grant})"
    refused = doorcode("keypad", "enter", "Front door", "0000", expect=1).output
    assert refused.strip() == "REFUSED: no such code on this lock"
    assert doorcode("alerts").exit_code == 0
    assert json.loads(doorcode("alerts", "--json").output) == []


def test_one_lock_syncs_alone(doorcode, booked):  # noqa: F811
    assert "1 created" in doorcode("lock", "sync", "Front door").output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["lock", "sync", "Back door"], 1, "no lock 'Back door'"),
        (["lock", "codes", "Back door"], 1, "no lock 'Back door'"),
        (["keypad", "enter", "Back door", "1234"], 1, "no lock 'Back door'"),
        (["keypad", "enter", "Front door", "12 34"], 1, "this keypad takes 1 to 16 digits"),
        (
            ["keypad", "enter", "Front door", "1234", "--at", "tomorrow"],
            2,
            "is not a date and time",
        ),
        (["keypad", "enter", "Front door", "1234", "--at", "2026-12-01T10:00"], 2, "has no offset"),
        (["property", "add", "X", "--zone", "UTC", "--native-lead-minutes", "-5"], 1, "lead time"),
        (["alerts", "--limit", "0"], 2, "greater than or equal to 1"),
        (["worker"], 1, "doorcode worker needs PostgreSQL"),
    ],
)
def test_bad_input_says_what_is_wrong_and_changes_nothing(doorcode, booked, args, code, says):  # noqa: F811
    before = doorcode("lock", "codes", "Front door", "--json").output
    properties = doorcode("property", "list", "--json").output
    result = doorcode(*args, expect=code)
    assert says in result.output
    assert doorcode("lock", "codes", "Front door", "--json").output == before
    assert doorcode("property", "list", "--json").output == properties


def test_a_lock_that_cannot_be_programmed_is_reported_not_failed(doorcode, booked):  # noqa: F811
    synced = doorcode("lock", "sync", "Cabin keypad").output
    assert "skipped: not programmable online" in synced


def test_a_code_typed_at_the_keypad_is_in_the_lock_log_at_once(doorcode, booked):  # noqa: F811
    grant, code = booked
    doorcode("lock", "sync", "Front door")
    doorcode("keypad", "enter", "Front door", code)
    doorcode("keypad", "enter", "Front door", "0000", expect=1)
    log = doorcode("lock", "log", "Front door").output
    assert "opened" in log
    assert "Ada" in log
    assert "unknown code" in log
    assert code not in log
    as_json = json.loads(doorcode("lock", "log", "Front door", "--json").output)
    assert [(e["outcome"], e["grant_id"]) for e in as_json] == [
        ("refused", None),
        ("opened", grant),
    ]
    refused = json.loads(
        doorcode("lock", "log", "Front door", "--outcome", "refused", "--json").output
    )
    assert [e["reason"] for e in refused] == ["unknown_code"]
    assert (
        "has no offset"
        in doorcode("lock", "log", "Front door", "--since", "2026-01-01", expect=2).output
    )


def test_a_property_can_turn_door_notices_off_and_move_its_no_show_hour(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    doorcode(
        "property",
        "add",
        "Quiet flat",
        "--zone",
        "UTC",
        "--no-arrival-notices",
        "--no-show-at",
        "21:30",
    )
    [listed] = json.loads(doorcode("property", "list", "--json").output)
    assert (listed["arrival_notices"], listed["no_show_time"]) == (False, "21:30:00")
    bad = doorcode(
        "property", "add", "Late flat", "--zone", "UTC", "--no-show-at", "25:00", expect=2
    )
    assert "not a time" in bad.output
    assert len(json.loads(doorcode("property", "list", "--json").output)) == 1


def test_a_removed_lock_loses_its_codes_and_leaves_the_listings(doorcode, booked):  # noqa: F811
    grant, code = booked
    doorcode("lock", "sync")
    doorcode("keypad", "enter", "Front door", code)  # the code is on the lock
    removed = doorcode("lock", "remove", "Front door").output
    assert "removed lock Front door" in removed
    assert "1 code(s) deleted from the device, 1 grant(s) no longer on it" in removed
    assert "Front door" not in doorcode("lock", "list").output
    assert "Front door" not in doorcode("grant", "show", grant).output
    refused = doorcode("lock", "remove", "Front door", expect=1).output
    assert refused.startswith("Error: ")


@pytest.mark.parametrize("typed", ["abc", "ABC", "12a4"])
def test_a_numeric_keypad_refuses_letters_saying_it_has_digits_only(doorcode, booked, typed):  # noqa: F811
    refused = doorcode("keypad", "enter", "Front door", typed, expect=1).output
    assert refused == "Error: this keypad takes 1 to 16 digits\n"


def test_a_keypad_with_letters_takes_them_in_either_case(doorcode, booked):  # noqa: F811
    doorcode("property", "add", "Hut", "--zone", "UTC", "--alphabet", "alphanumeric")
    doorcode("lock", "add", "Hut door", "--alphanumeric", "--property", "Hut")
    until = STAYING_SINCE + timedelta(days=9)
    doorcode(
        "grant", "add", "--holder", "Kim", "--property", "Hut", "--code", "K7P4Q2",
        "--from", f"{STAYING_SINCE}T00:00+00:00", "--to", f"{until}T00:00+00:00",
    )  # fmt: skip
    doorcode("lock", "sync", "Hut door")
    assert doorcode("keypad", "enter", "Hut door", "k7p4q2").output.startswith("OPEN")
    refused = doorcode("keypad", "enter", "Hut door", "k7p4-q2", expect=1).output
    assert refused == "Error: this keypad takes 1 to 16 digits and letters\n"
