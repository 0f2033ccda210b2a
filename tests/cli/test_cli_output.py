"""What the CLI prints: names and local time instead of ids and Python reprs, whole ids."""

import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from doorcode.cli import context
from doorcode.cli.main import app


@pytest.fixture
def doorcode(cli, monkeypatch):
    # An 80-column terminal, where Rich used to cut ids.
    monkeypatch.setattr(context, "_console", Console(width=80))

    def run(*args, expect=0):
        return cli(*args, expect=expect).output

    run("org", "add", "acme")
    run("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    run("lock", "add", "Front door of the flat", "--property", "f1")
    return run


def book(doorcode, check_in="2099-07-01", check_out="2099-07-04"):
    added = doorcode(
        "reservation", "add", "--property", "f1", "--check-in", check_in,
        "--check-out", check_out, "--guest", "Ada", "--email", "ada@example.org",
    )  # fmt: skip
    return re.search(r"reservation (res_\w+), grant (grt_\w+)", added).groups()


def test_grant_show_speaks_names_and_the_propertys_clock(doorcode):
    _, grant_id = book(doorcode)
    shown = doorcode("grant", "show", grant_id)
    assert "datetime.datetime" not in shown
    assert "Front door of the flat" in shown
    assert "Flat 1" in shown
    # July in Lisbon is WEST (UTC+1): 15:00 local, not 14:00 UTC.
    assert "2099-07-01 15:00 WEST" in shown
    assert "2099-07-04 11:00 WEST" in shown


def test_ids_are_never_cut_on_a_narrow_terminal(doorcode):
    reservation_id, grant_id = book(doorcode)
    assert grant_id in doorcode("grant", "list")
    assert reservation_id in doorcode("reservation", "list")


def test_grant_list_shows_the_property_and_hides_revoked_grants_unless_asked(doorcode, monkeypatch):
    monkeypatch.setattr(context, "_console", Console(width=200))
    reservation_id, grant_id = book(doorcode)
    listed = doorcode("grant", "list")
    assert "Flat 1" in listed
    assert "2099-07-01 15:00 WEST" in listed
    doorcode("reservation", "cancel", reservation_id)
    assert grant_id not in doorcode("grant", "list")
    assert json.loads(doorcode("grant", "list", "--json")) == []
    assert grant_id in doorcode("grant", "list", "--all")
    assert grant_id in doorcode("grant", "list", "--property", "Flat 1", "--all")
    doorcode("grant", "list", "--property", "nowhere", expect=1)


def test_reservation_show_gives_the_stay_on_the_propertys_clock(doorcode):
    reservation_id, grant_id = book(doorcode)
    shown = doorcode("reservation", "show", reservation_id)
    assert "check-in:" in shown
    assert "2099-07-01 15:00 WEST" in shown
    assert "ada@example.org" in shown
    assert grant_id in shown
    assert "no reservation 'res_nothing'" in doorcode(
        "reservation", "show", "res_nothing", expect=1
    )


@pytest.mark.parametrize("command", [["grant", "list"], ["lock", "add"], ["rules", "set"]])
def test_help_shows_no_type_placeholders_for_flags_nor_markup(command):
    shown = CliRunner().invoke(app, [*command, "--help"]).output
    assert "<bool>" not in shown
    assert "``" not in shown


def test_reservation_show_gives_the_channels_booking_reference(doorcode):
    added = doorcode(
        "reservation", "add", "--property", "f1", "--check-in", "2099-07-01",
        "--check-out", "2099-07-04", "--booking-reference", "HMABCD1234",
    )  # fmt: skip
    reservation_id = re.search(r"reservation (res_\w+)", added).group(1)
    assert "booking reference: HMABCD1234" in doorcode("reservation", "show", reservation_id)
    listed = json.loads(doorcode("reservation", "list", "--json"))
    assert listed[0]["booking_reference"] == "HMABCD1234"


def test_lock_codes_show_windows_on_the_propertys_clock(doorcode, monkeypatch):
    monkeypatch.setattr(context, "_console", Console(width=200))
    book(doorcode)
    shown = doorcode("lock", "codes", "Front door of the flat")
    assert "2099-07-01 15:00 WEST" in shown
    assert "UTC" not in shown
