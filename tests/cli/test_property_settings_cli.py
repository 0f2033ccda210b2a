"""`doorcode property set` and the turnover options: what the dashboard's property form does,
from the command line, bad values refused with nothing changed."""

import json
from datetime import UTC, datetime, timedelta

import pytest

# The CLI runs on the process's own clock: stays are days ahead of today, never pinned.
DAY_1 = (datetime.now(UTC) + timedelta(days=10)).date()
DAY_3 = DAY_1 + timedelta(days=2)
DAY_4 = DAY_1 + timedelta(days=3)
DAY_6 = DAY_1 + timedelta(days=5)


@pytest.fixture
def flat(doorcode):
    doorcode("org", "add", "acme")
    doorcode("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    doorcode("lock", "add", "Front door", "--property", "f1")
    for external_id, check_in, check_out in (("A", DAY_1, DAY_3), ("B", DAY_4, DAY_6)):
        doorcode(
            "reservation", "add", "--property", "f1", "--external-id", external_id,
            "--check-in", str(check_in), "--check-out", str(check_out), "--guest", external_id,
        )  # fmt: skip


def staff_grants(doorcode):
    listed = json.loads(doorcode("grant", "list", "--kind", "staff", "--json").output)
    return [(g["holder"], g["starts_at"], g["ends_at"]) for g in listed]


def test_a_holder_set_from_the_cli_gets_a_code_between_stays(doorcode, flat):
    changed = doorcode(
        "property", "set", "f1", "--turnover-holder", "Marta", "--turnover-max-hours", "6"
    )
    assert "turnover Marta, up to 6 h" in changed.output
    found = staff_grants(doorcode)
    assert [holder for holder, _, _ in found] == ["Marta", "Marta"]
    starts, ends = (datetime.fromisoformat(found[0][1]), datetime.fromisoformat(found[0][2]))
    assert ends - starts == timedelta(hours=6)
    assert "Marta, up to 6 h" in doorcode("property", "list").output


def test_no_turnover_revokes_the_codes(doorcode, flat):
    doorcode("property", "set", "f1", "--turnover-holder", "Marta")
    assert len(staff_grants(doorcode)) == 2
    doorcode("property", "set", "f1", "--no-turnover")
    assert staff_grants(doorcode) == []
    assert json.loads(doorcode("property", "list", "--json").output)[0]["turnover_holder"] == ""


def test_a_property_can_start_with_a_turnover_holder(doorcode):
    doorcode("org", "add", "acme")
    doorcode(
        "property", "add", "Loft", "--zone", "UTC", "--turnover-holder", "Rui",
        "--turnover-max-hours", "8",
    )  # fmt: skip
    [loft] = json.loads(doorcode("property", "list", "--json").output)
    assert (loft["turnover_holder"], loft["turnover_max_hours"]) == ("Rui", 8)


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--turnover-max-hours", "0"], 1, "1 to 336 hours"),
        (["--turnover-max-hours", "337"], 1, "1 to 336 hours"),
        (
            ["--turnover-holder", "x" * 201],
            1,
            "turnover code's holder's name is 200 characters at most",
        ),
        (["--turnover-holder", "Marta", "--no-turnover"], 2, "not both"),
        (["--zone", "Europe/Atlantis"], 1, "Europe/Atlantis"),
        (["--check-in", "25:00"], 2, "not a time"),
        ([], 2, "nothing to change"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(doorcode, flat, args, exit_code, message):
    before = doorcode("property", "list", "--json").output
    refused = doorcode("property", "set", "f1", *args, expect=exit_code)
    assert message in refused.output
    assert doorcode("property", "list", "--json").output == before


def test_moving_the_zone_from_the_cli_moves_the_stays(doorcode, flat):
    doorcode("property", "set", "f1", "--zone", "Asia/Tokyo")
    shown = doorcode("grant", "list", "--kind", "guest").output
    assert "15:00 JST" in shown
