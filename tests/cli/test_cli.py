"""The command line: the operator's whole loop, and clear errors with non-zero exit codes."""

import json
from datetime import UTC, datetime, timedelta

import pytest

# The CLI runs on the process's own clock: a stay pinned to a fixed date would be in the past
# (expired, "already over") on every day after it. Dates are days ahead of today instead.
DAY_1 = (datetime.now(UTC) + timedelta(days=10)).date()
DAY_2 = DAY_1 + timedelta(days=1)
DAY_4 = DAY_1 + timedelta(days=3)


@pytest.fixture
def flat(doorcode):
    doorcode("org", "add", "acme")
    doorcode("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    doorcode("lock", "add", "Front door", "--property", "f1")


def test_version_names_the_pinned_tzdata_release(doorcode):
    assert "tzdata 2026.6" in doorcode("--version").output


def test_an_operator_books_reveals_and_cancels(doorcode, flat):
    added = doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4),
        "--guest",
        "Ada",
        "--external-id",
        "X1",
    )
    assert added.output.startswith("created: reservation res_")
    again = doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4),
        "--guest",
        "Ada",
        "--external-id",
        "X1",
    )
    assert again.output.startswith("unchanged")
    grants = json.loads(doorcode("grant", "list", "--kind", "guest", "--json").output)
    assert [grant["state"] for grant in grants] == ["scheduled"]
    shown = doorcode("grant", "show", grants[0]["id"], "--reveal").output
    assert shown.rstrip().splitlines()[-1].startswith("code: ")
    reservation_id = json.loads(doorcode("reservation", "list", "--json").output)[0]["id"]
    doorcode("reservation", "cancel", reservation_id, "--reason", "no-show")
    guest_grants = doorcode("grant", "list", "--kind", "guest", "--all", "--json").output
    assert json.loads(guest_grants)[0]["state"] == "revoked"
    kinds = [event["kind"] for event in json.loads(doorcode("events", "--json").output)]
    assert {"GrantCreated", "GrantCodeRevealed", "GrantRevoked", "ReservationCancelled"} <= set(
        kinds
    )


def test_a_staff_code_needs_offsets_on_its_times(doorcode, flat):
    naive = doorcode(
        "grant",
        "add",
        "--holder",
        "Marta",
        "--kind",
        "staff",
        "--property",
        "f1",
        "--from",
        f"{DAY_1}T10:00",
        "--to",
        f"{DAY_1}T14:00",
        expect=2,
    )
    assert "has no offset" in naive.output
    doorcode(
        "grant",
        "add",
        "--holder",
        "Marta",
        "--kind",
        "staff",
        "--property",
        "f1",
        "--from",
        f"{DAY_1}T10:00+00:00",
        "--to",
        f"{DAY_1}T14:00+00:00",
    )
    assert json.loads(doorcode("grant", "list", "--json").output)[0]["kind"] == "staff"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["property", "add", "X", "--zone", "Mars/Base"], 1, "unknown time zone 'Mars/Base'"),
        (["property", "add", "X", "--zone", "UTC", "--code-length", "3"], 1, "between 4 and 10"),
        (
            [
                "reservation",
                "add",
                "--property",
                "nope",
                "--check-in",
                "2026-12-01",
                "--check-out",
                "2026-12-02",
            ],
            1,
            "no property 'nope'",
        ),
        (
            [
                "reservation",
                "add",
                "--property",
                "f1",
                "--check-in",
                "2026-12-05",
                "--check-out",
                "2026-12-01",
            ],
            1,
            "check-out date is before check-in date",
        ),
        (
            [
                "reservation",
                "add",
                "--property",
                "f1",
                "--check-in",
                "2026-13-01",
                "--check-out",
                "2026-12-01",
            ],
            2,
            "is not a date",
        ),
        (["reservation", "cancel", "res_nothere"], 1, "no reservation 'res_nothere'"),
        (["grant", "revoke", "grt_nothere"], 1, "no grant 'grt_nothere'"),
        (["lock", "add", "Front door"], 1, "is already in use"),
    ],
)
def test_bad_input_says_what_is_wrong_and_exits_non_zero(doorcode, flat, args, code, says):
    before = doorcode("reservation", "list", "--json").output
    result = doorcode(*args, expect=code)
    assert says in result.output
    assert doorcode("reservation", "list", "--json").output == before


def test_without_an_organisation_the_cli_says_how_to_make_one(doorcode):
    assert "doorcode org add" in doorcode("property", "list", expect=1).output


def test_with_several_organisations_the_cli_asks_which(doorcode):
    doorcode("org", "add", "one")
    doorcode("org", "add", "two")
    assert "--org" in doorcode("property", "list", expect=1).output
    assert doorcode("--org", "two", "property", "list").exit_code == 0


def test_an_api_key_is_printed_once(doorcode, flat):
    secret = doorcode("apikey", "create", "pms", "--role", "manager").stdout.strip()
    assert secret.startswith("dck_")
    listed = doorcode("apikey", "list").output
    assert secret not in listed
    assert secret.split("_")[1] in listed


def test_offline_codes_from_the_cli(doorcode, flat):
    doorcode("lock", "add", "Cabin keypad", "--offline-codes", "--no-native-scheduling")
    doorcode("offline", "group", "add", "cabin", "--lock", "Cabin keypad")
    issued = doorcode(
        "offline",
        "issue",
        "--lock-group",
        "cabin",
        "--from",
        f"{DAY_1}T15:00+00:00",
        "--to",
        f"{DAY_4}T11:00+00:00",
    ).output
    code = issued.splitlines()[0].split()[-1]
    assert len(code) == 10
    checked = doorcode(
        "offline", "check", code, "--lock-group", "cabin", "--at", f"{DAY_2}T09:00+00:00"
    ).output
    assert f"{DAY_1} 15:00 UTC → {DAY_4} 11:00 UTC" in checked
    assert "opens" in checked
    blocked = doorcode("offline", "block", code, "--lock-group", "cabin").output
    assert f"#128#{code}#" in blocked
    assert (
        "not a code of this key group"
        in doorcode("offline", "check", "1" * 9, "--lock-group", "cabin", expect=1).output
    )
    exported = doorcode("offline", "group", "export", "cabin").output
    assert "key (AES-256)" in exported
    assert "exported already" in doorcode("offline", "group", "export", "cabin", expect=1).output


def test_a_check_in_time_with_an_offset_is_refused_not_shifted(doorcode, flat):
    """As the API refuses it: the property's zone decides the instant."""
    refused = doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4),
        "--check-in-time",
        "10:00+05:00",
        expect=2,
    )
    assert "without an offset" in refused.output
    assert json.loads(doorcode("reservation", "list", "--json").output) == []


def test_a_bad_contact_is_refused_and_nothing_is_stored(doorcode, flat):
    refused = doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4),
        "--email",
        "not-an-address",
        expect=2,
    )
    assert "--email" in refused.output
    assert json.loads(doorcode("reservation", "list", "--json").output) == []


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--email", "not-an-address", "'not-an-address' is not an email address like ada@"),
        ("--phone", "123", "'123' is not a phone number like +351 210 000 000"),
        ("--locale", "english!", "'english!' is not a language like en or pt-BR"),
    ],
)
def test_a_bad_contact_is_explained_in_words_not_a_regex(doorcode, flat, option, value, words):
    """The same words the API answers with; pydantic's message quoted the pattern."""
    dates = ["--check-in", str(DAY_1), "--check-out", str(DAY_4)]
    refused = doorcode("reservation", "add", "--property", "f1", *dates, option, value, expect=2)
    shown = " ".join(refused.output.split())
    assert words in shown, shown
    assert "pattern" not in shown
    assert "^" not in shown


def test_a_booking_re_sent_from_the_cli_updates_the_one_a_source_recorded(doorcode, flat):
    """Without --source, the reservation already known by the external id is the one meant."""
    doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4),
        "--source",
        "pms",
        "--external-id",
        "HX-1",
        "--guest",
        "Ada",
    )
    doorcode(
        "reservation",
        "add",
        "--property",
        "f1",
        "--check-in",
        str(DAY_1),
        "--check-out",
        str(DAY_4 + timedelta(days=1)),
        "--external-id",
        "HX-1",
    )
    [only] = json.loads(doorcode("reservation", "list", "--json").output)
    assert (only["source"], only["check_out"]) == ("pms", str(DAY_4 + timedelta(days=1)))
    assert only["guest"]["name"] == "Ada"


def test_grant_show_words_each_locks_status_as_lock_codes_does(doorcode, flat):
    """``lock codes`` says 'waiting for lead time'; ``grant show`` said waiting_for_lead_time."""
    added = doorcode(
        "reservation", "add", "--property", "f1", "--check-in", str(DAY_1),
        "--check-out", str(DAY_4), "--guest", "Ada",
    )  # fmt: skip
    grant_id = added.output.split("grant ")[1].split()[0]
    doorcode("lock", "sync")
    shown = doorcode("grant", "show", grant_id).output
    assert "waiting for lead time" in shown, shown
    assert "waiting_for_lead_time" not in shown


def test_a_keypad_without_a_zero_is_recorded_with_no_zeros(doorcode, flat):
    doorcode("lock", "add", "No zero", "--no-zeros")
    doorcode("lock", "add", "With zero", "--zeros")
    found = {lock["name"]: lock for lock in json.loads(doorcode("lock", "list", "--json").output)}
    assert found["No zero"]["capabilities"]["constraints"]["no_zeros"] is True
    assert found["With zero"]["capabilities"]["constraints"]["no_zeros"] is False
    assert found["Front door"]["capabilities"]["constraints"]["no_zeros"] is False
