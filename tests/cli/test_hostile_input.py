"""A property manager who mistypes: every bad input is one clear line, exit code 1 or 2, and
nothing stored changes.

Each test here was a defect first: a traceback, an exit code 0 on a mistake, or a half-done
write left behind by a refused command.
"""

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

START = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
END = START + timedelta(days=1)


@pytest.fixture
def world(doorcode):
    """Two organisations; acme has two flats, each with its own front door."""
    doorcode("org", "add", "acme")
    doorcode("org", "add", "other")
    doorcode("org", "use", "acme")
    doorcode("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    doorcode("property", "add", "Flat 2", "--zone", "Europe/Lisbon", "--external-id", "f2")
    doorcode("lock", "add", "Door 1", "--property", "f1")
    doorcode("lock", "add", "Door 2", "--property", "f2")
    doorcode("--org", "other", "property", "add", "Theirs", "--zone", "UTC", "--external-id", "o1")
    doorcode("--org", "other", "lock", "add", "Their door", "--property", "o1")


@pytest.fixture
def stored(sqlite_url):
    """``stored()``: every row of every table, to compare before and after a refused command."""
    path = sqlite_url.removeprefix("sqlite:///")

    def rows():
        with sqlite3.connect(path) as db:
            tables = [
                name for (name,) in db.execute("select name from sqlite_master where type='table'")
            ]
            return {table: db.execute(f'select * from "{table}"').fetchall() for table in tables}

    return rows


def refused(doorcode, stored, *args, says, expect=1):
    """Run a command that must fail with one line naming the mistake, changing nothing."""
    before = stored()
    result = doorcode(*args, expect=expect)
    assert stored() == before
    assert "Traceback" not in result.output
    assert says in result.stderr, result.stderr
    return result


@pytest.mark.parametrize(
    "links",
    [["--property", "nope"], ["--property", "o1"], ["--property", "f1", "--property", "nope"]],
    ids=["unknown", "other-organisation", "second-unknown"],
)
def test_a_lock_added_to_a_property_that_is_not_there_is_not_added(doorcode, world, stored, links):
    refused(
        doorcode,
        stored,
        "lock",
        "add",
        "Back door",
        *links,
        says="no property 'nope'" if "nope" in links else "no property 'o1'",
    )
    names = [lock["name"] for lock in json.loads(doorcode("lock", "list", "--json").output)]
    assert "Back door" not in names


def staff_code(*options, holder="Marta"):
    window = ("--from", START.isoformat(), "--to", END.isoformat())
    return ("grant", "add", "--holder", holder, "--kind", "staff", *options, *window)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--property", "f1", "--lock", "nope"], "a property or locks, not both"),
        (["--property", "f1", "--lock", "Door 2"], "a property or locks, not both"),
        (["--property", "", "--lock", "Door 1"], "a property or locks, not both"),
        (["--property", ""], "no property ''"),
        (["--property", "f1", "--code-length", "0"], "code length must be between 4 and 10"),
        (["--lock", "Door 1", "--code-length", "0"], "code length must be between 4 and 10"),
        (["--property", "f1"], "the holder's name is 200 characters at most"),
    ],
    ids=[
        "typo-lock-ignored",
        "other-lock-ignored",
        "empty-property",
        "empty-property-alone",
        "zero-length",
        "zero-length-locks",
        "holder-too-long",
    ],
)
def test_a_staff_code_with_conflicting_or_empty_targets_is_refused(
    doorcode, world, stored, options, says
):
    holder = "x" * 5000 if "holder" in says or "200" in says else "Marta"
    refused(doorcode, stored, *staff_code(*options, holder=holder), says=says)


def test_a_database_that_refuses_is_one_line_without_the_password(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_DATABASE_URL", "postgresql://host:hunter2@127.0.0.1:1/doorcode")
    result = cli("grant", "list", expect=1)
    assert result.stderr.startswith("Error: the database cannot be used: "), result.stderr
    assert "Connection refused" in result.stderr
    assert "hunter2" not in result.output
    assert len(result.stderr.splitlines()) == 1


def test_a_database_url_doorcode_cannot_use_is_named(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_DATABASE_URL", "mysql://host:hunter2@db/doorcode")
    result = cli("grant", "list", expect=1)
    assert result.stderr.startswith("Error: DOORCODE_DATABASE_URL: "), result.stderr
    assert "postgresql://" in result.stderr
    assert "hunter2" not in result.output


def test_an_async_database_driver_is_refused_in_one_line_not_a_traceback(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_DATABASE_URL", "postgresql+asyncpg://host:hunter2@db/doorcode")
    result = cli("grant", "list", expect=1)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: DOORCODE_DATABASE_URL: "), result.stderr
    assert "postgresql+asyncpg" in result.stderr
    assert "psycopg" in result.stderr
    assert "pysqlite" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "hunter2" not in result.output


def test_a_database_another_writer_holds_is_busy_and_left_alone(
    doorcode, world, sqlite_url, monkeypatch
):
    monkeypatch.setattr("doorcode.store.database.BUSY_TIMEOUT_SECONDS", 0.2)
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = doorcode("property", "add", "Flat 3", "--zone", "UTC", expect=1)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.stderr.startswith("Error: the database is busy: "), result.stderr
    names = [prop["name"] for prop in json.loads(doorcode("property", "list", "--json").output)]
    assert "Flat 3" not in names


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (
            ("property", "add", "Flat 3", "--zone", "UTC", "--native-lead-minutes", HUGE),
            "between 0 and 30 days",
        ),
        (
            ("property", "add", "Flat 3", "--zone", "UTC", "--unscheduled-lead-minutes", HUGE),
            "between 0 and 30 days",
        ),
        (
            ("feed", "add", "f1", "https://example.com/cal.ics", "--interval", HUGE),
            "every 1 to 1440 minutes",
        ),
        (("feed", "add", "f1", "https://example.com:99999/cal.ics"), "feed URL must be"),
        (("feed", "add", "f1", "https://exa mple.com/cal.ics"), "feed URL must be"),
        (
            ("source", "add", "pms", "--push-url", "https://example.com:70000/push"),
            "push URL must be",
        ),
        (
            (
                "provider",
                "connect",
                "zwave_js",
                "--label",
                "zw",
                "--option",
                "url=ws://127.0.0.1:99999",
            ),
            "url must be a websocket URL",
        ),
    ],
    ids=[
        "native-lead",
        "unscheduled-lead",
        "feed-interval",
        "feed-port",
        "feed-space",
        "push-port",
        "zwave-port",
    ],
)
def test_numbers_and_ports_out_of_range_are_refused(doorcode, world, stored, command, says):
    refused(doorcode, stored, *command, says=says)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (
            ("property", "add", "Flat\x003", "--zone", "UTC"),
            "Invalid value for argument 3: holds a NUL",
        ),
        (
            (
                "grant",
                "add",
                "--holder",
                "Mar\x00ta",
                "--property",
                "f1",
                "--from",
                START.isoformat(),
                "--to",
                END.isoformat(),
            ),
            "Invalid value for --holder: holds a NUL",
        ),
        (
            (
                "reservation",
                "add",
                "--property",
                "f1",
                "--guest=A\x00da",
                "--check-in",
                str(START.date()),
                "--check-out",
                str(END.date()),
            ),
            "Invalid value for --guest: holds a NUL",
        ),
    ],
    ids=["argument", "option", "option=value"],
)
def test_a_nul_character_is_refused_before_anything_runs(doorcode, world, stored, command, says):
    result = refused(doorcode, stored, *command, says=says, expect=2)
    assert "\x00" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ("grant", "list", "--property", "Flat"),
        ("rules", "show", "Flat"),
        ("grant", "list", "--lock", "Door"),
        ("lock", "sync", "Door"),
        ("lock", "remove", "Door"),
    ],
)
def test_a_name_two_share_is_called_ambiguous_not_missing(doorcode, world, stored, command):
    doorcode("property", "set", "f1", "--name", "Flat")
    doorcode("property", "set", "f2", "--name", "Flat")
    doorcode("lock", "add", "Door", "--property", "f1", "--external-id", "door-a")
    doorcode("lock", "add", "Door", "--property", "f2", "--external-id", "door-b")
    what = "properties" if "Flat" in command else "locks"
    refused(doorcode, stored, *command, says=f"several {what} are named")


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (("property", "add", "", "--zone", "UTC"), "a property needs a name"),
        (("property", "add", "   ", "--zone", "UTC"), "a property needs a name"),
        (("property", "add", "x" * 5000, "--zone", "UTC"), "200 characters at most"),
        (("property", "set", "f1", "--name", "x" * 5000), "200 characters at most"),
        (("lock", "add", ""), "a lock needs a name"),
        (("lock", "add", "x" * 5000), "200 characters at most"),
        (("lock", "add", "Gate", "--min-length", "8", "--max-length", "4"), "--min-length <="),
        (("lock", "add", "Gate", "--min-length", "0"), "--min-length <="),
        (("lock", "add", "Gate", "--max-length", HUGE), "--min-length <="),
        (("lock", "add", "Gate", "--min-length", "1", "--max-length", "3"), "from 4 to 10"),
        (("lock", "add", "Gate", "--max-codes", "0"), "at least 1 code"),
        (("lock", "add", "Gate", "--max-codes", "-1"), "at least 1 code"),
        (("apikey", "create", "", "--role", "viewer"), "an API key needs a name"),
        (("apikey", "create", "x" * 5000), "200 characters at most"),
        (
            (
                "schedule",
                "add",
                "x" * 5000,
                "--property",
                "f1",
                "--on",
                "mon",
                "--from",
                "10:00",
                "--to",
                "12:00",
                "--first",
                str(START.date()),
                "--last",
                str(END.date()),
            ),
            "the holder's name is 200 characters at most",
        ),
    ],
    ids=[
        "property-empty",
        "property-blank",
        "property-long",
        "property-set-long",
        "lock-empty",
        "lock-long",
        "lengths-reversed",
        "length-zero",
        "length-huge",
        "lengths-too-short",
        "no-room",
        "negative-room",
        "apikey-empty",
        "apikey-long",
        "schedule-holder-long",
    ],
)
def test_names_and_capabilities_nobody_can_use_are_refused(doorcode, world, stored, command, says):
    usage = says.startswith("--min-length")  # caught while parsing, before the range is built
    refused(doorcode, stored, *command, says=says, expect=2 if usage else 1)


@pytest.mark.parametrize(
    ("command", "says", "expect"),
    [
        (("grant", "list", "--reservation", "res_nope"), "no reservation 'res_nope'", 1),
        (("grant", "list", "--reservation", ""), "no reservation ''", 1),
        (("grant", "list", "--property", ""), "no property ''", 1),
        (("grant", "list", "--lock", ""), "no lock ''", 1),
        (("reservation", "list", "--property", ""), "no property ''", 1),
        (("messages", "list", "--reservation", ""), "no reservation ''", 1),
        (("delivery", "list", "--source", "nope"), "no source 'nope'", 1),
        (("delivery", "list", "--outcome", "acepted"), "'acepted' is not one of 'accepted'", 2),
        (("push", "list", "--status", "sent"), "'sent' is not one of 'pending'", 2),
    ],
    ids=[
        "grant-reservation",
        "grant-reservation-empty",
        "grant-property-empty",
        "grant-lock-empty",
        "reservation-property-empty",
        "messages-reservation-empty",
        "delivery-source",
        "delivery-outcome",
        "push-status",
    ],
)
def test_a_filter_that_names_nothing_is_a_mistake_not_an_empty_list(
    doorcode, world, command, says, expect
):
    result = doorcode(*command, expect=expect)
    assert says in result.stderr, result.stderr


def test_another_organisations_reservation_is_not_a_filter(doorcode, world):
    doorcode(
        "--org",
        "other",
        "reservation",
        "add",
        "--property",
        "o1",
        "--check-in",
        str(START.date()),
        "--check-out",
        str(END.date()),
        "--guest",
        "Bob",
    )
    theirs = json.loads(doorcode("--org", "other", "reservation", "list", "--json").output)
    result = doorcode("grant", "list", "--reservation", theirs[0]["id"], expect=1)
    assert f"no reservation '{theirs[0]['id']}'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        (
            "reservation",
            "add",
            "--property",
            "f1",
            "--property",
            "f2",
            "--check-in",
            str(START.date()),
            "--check-out",
            str(END.date()),
        ),
        ("lock", "add", "Gate", "--online", "--offline"),
        ("grant", "revoke", "grt_x", "--reason", "a", "--reason=b"),
    ],
    ids=["value-twice", "flag-and-its-opposite", "value-twice-with-equals"],
)
def test_an_option_given_twice_is_refused_not_the_last_one_taken(doorcode, world, stored, command):
    refused(doorcode, stored, *command, says="given more than once", expect=2)


def test_a_repeatable_option_and_a_repeated_flag_are_fine(doorcode, world):
    doorcode(
        "grant",
        "add",
        "--holder",
        "Marta",
        "--lock",
        "Door 1",
        "--lock",
        "Door 2",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
    )
    doorcode("grant", "list", "--json", "--json")


@pytest.mark.parametrize("port", ["99999", "abc", "0"])
def test_a_broker_port_out_of_range_is_refused(doorcode, world, stored, port):
    refused(
        doorcode,
        stored,
        "provider",
        "connect",
        "zigbee2mqtt",
        "--label",
        "z2m",
        "--option",
        f"port={port}",
        says="port must be a number from 1 to 65535",
    )


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_refuses_a_port_out_of_range_before_starting(doorcode, port):
    result = doorcode("serve", "--port", port, expect=2)
    assert "--port" in result.stderr


def test_a_listen_port_setting_out_of_range_is_named(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_PORT", "99999")
    result = cli("property", "list", expect=1)
    assert result.stderr.startswith("Error: DOORCODE_PORT: "), result.stderr


@pytest.mark.parametrize("where", ["under-a-file", "unwritable"])
def test_init_in_a_directory_it_cannot_use_says_so_and_remembers_nothing(
    cli, tmp_path, monkeypatch, where
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("DOORCODE_DATABASE_URL")
    monkeypatch.delenv("DOORCODE_DATA_DIR")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "var" if where == "under-a-file" else Path("/proc/doorcode-var")
    result = cli("init", "--data-dir", str(target), expect=1)
    assert result.stderr.startswith(f"Error: cannot use {target} as the data directory: ")
    assert "Traceback" not in result.output
    assert not (tmp_path / "config" / "doorcode" / "config.toml").exists()


def test_a_credential_given_twice_is_refused_without_echoing_either(doorcode, world, stored):
    result = refused(
        doorcode,
        stored,
        "provider",
        "connect",
        "seam",
        "--label",
        "s",
        "--credential",
        "api_key=seam_first_secret",
        "--credential",
        "api_key=seam_second_secret",
        says="--credential api_key is given twice",
    )
    assert "secret" not in result.output


def test_a_blank_external_id_is_refused_not_stored(doorcode, world, stored):
    for name in ("Flat 3", "Flat 4"):
        refused(
            doorcode,
            stored,
            "property",
            "add",
            name,
            "--zone",
            "UTC",
            "--external-id",
            "",
            says="an external id cannot be blank",
        )


def test_rules_set_without_a_rule_changes_nothing(doorcode, world, stored):
    refused(doorcode, stored, "rules", "set", "f1", says="nothing to change", expect=2)


def test_a_lock_whose_link_is_refused_after_it_was_added_is_not_added_either(
    doorcode, world, stored
):
    # Flat 1 gives 6-digit codes; a keypad of at most 5 refuses the link only once the lock
    # is staged: the command is one transaction, so the lock goes with it.
    refused(
        doorcode,
        stored,
        "lock",
        "add",
        "Back door",
        "--property",
        "f1",
        "--max-length",
        "5",
        says="does not take 6-symbol codes",
    )
    names = [lock["name"] for lock in json.loads(doorcode("lock", "list", "--json").output)]
    assert "Back door" not in names
