"""What others typed reaches the operator's terminal as text: never as escapes it obeys, never
as Rich markup. A guest's name comes from a PMS, a calendar or anyone who can post to the
webhook URL."""

import json
from datetime import UTC, datetime

import pytest

from doorcode.bootstrap import bootstrap
from doorcode.cli.terminal_text import shown
from doorcode.config import Settings
from doorcode.sources.deliveries import DeliveryRefused, InboundRequest, receive_delivery
from doorcode.sources.webhook_signature import signed_headers
from tests.conftest import TEST_KEY

HOSTILE = "Eve \x1b]0;owned\x07\x1b[2J\x9b31m [/b] [red]"
"""A window title, a clear screen, an 8-bit CSI, and markup that does not close."""


@pytest.fixture
def doorcode(cli):
    cli("org", "add", "acme")
    cli("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    cli("lock", "add", "Front door", "--property", "f1")
    return cli


def obeyable(output: str) -> list[str]:
    return [char for char in output if char == "\x1b" or char == "\x07" or char == "\x9b"]


def test_a_guests_name_with_escapes_and_markup_is_printed_as_text(doorcode):
    added = doorcode(
        "reservation", "add", "--property", "f1", "--check-in", "2099-07-01",
        "--check-out", "2099-07-04", "--guest", HOSTILE,
    ).output  # fmt: skip
    reservation_id = added.split("reservation ")[1].split(",")[0]
    for command in (
        ("reservation", "list"),
        ("grant", "list"),
        ("reservation", "show", reservation_id),
    ):
        output = doorcode(*command).output
        assert obeyable(output) == [], command
        assert "\\x1b]0;owned\\x07" in output, command
        assert "[/b] [red]" in output, command


def test_a_guests_name_that_reorders_or_breaks_its_line_is_printed_escaped(doorcode):
    # U+202E shows what follows it right to left; U+2028 starts a new line in some terminals.
    name = "Eve \u202egnp.exe\u202c\u2028Mallory"
    doorcode(
        "reservation", "add", "--property", "f1", "--check-in", "2099-07-01",
        "--check-out", "2099-07-04", "--guest", name,
    )  # fmt: skip
    output = doorcode("reservation", "list").output
    assert "Eve \\u202egnp.exe\\u202c\\u2028Mallory" in output
    assert not {"\u202e", "\u202c", "\u2028"} & set(output)


def test_a_webhook_body_anyone_can_send_is_shown_escaped_and_still_json(
    doorcode, sqlite_url, tmp_path
):
    source_id = doorcode("source", "add", "pms").output.split("/webhooks/reservations/")[1]
    source_id = source_id.split()[0]
    content = json.dumps({"external_id": HOSTILE}, ensure_ascii=False).encode()
    headers = signed_headers("not the secret", content, datetime.now(UTC), "d-1")
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(settings, migrate=False)
    with pytest.raises(DeliveryRefused):  # unproven, and kept for the operator to look at
        receive_delivery(
            runtime.uow(),
            source_id,
            InboundRequest(content, {k.lower(): v for k, v in headers.items()}),
        )
    runtime.close()
    [delivery] = json.loads(doorcode("delivery", "list", "--json").output)
    output = doorcode("delivery", "show", delivery["id"]).output
    assert obeyable(output) == []
    assert HOSTILE in json.loads(json.loads(output)["body"])["external_id"]


def test_newlines_and_tabs_stay_and_every_other_control_shows_its_escape():
    assert shown("a\tb\nc") == "a\tb\nc"
    assert shown("\x00\x1b\x7f\x85\x9f") == "\\x00\\x1b\\x7f\\x85\\x9f"
    assert shown("Zoë 🙂") == "Zoë 🙂"


def test_line_separators_and_bidi_controls_show_their_escapes():
    assert shown("a\u2028b\u2029c\u202ed\u2066e") == "a\\u2028b\\u2029c\\u202ed\\u2066e"
