"""Guest messages from the command line: templates from files, rules, the log, a pass."""

import json
import re
from datetime import UTC, datetime, timedelta

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.store.repositories import ReservationFilter
from tests.cli.conftest import cli, doorcode  # noqa: F401 (shared fixtures)
from tests.cli.test_cli import flat  # noqa: F401 (shared fixture)


def test_a_template_file_with_problems_is_refused_line_by_line(doorcode, flat, tmp_path):  # noqa: F811
    bad = tmp_path / "bad.txt"
    bad.write_text("Hi {{ guest.name }}\n{{ guest.__class__ }}\n{% include 'x' %}\n")
    result = doorcode(
        "template", "set", "check_in_instructions", "sms", "en", "--text", str(bad), expect=1
    )
    assert "Error: the template is refused:" in result.output
    assert (
        "text, line 2: guest.__class__: names starting with '_' are not reachable" in result.output
    )
    assert "text, line 3: {% include %} is not allowed" in result.output
    assert json.loads(doorcode("template", "list", "--json").output) == []


def test_a_template_is_saved_shown_and_previewed(doorcode, flat, tmp_path):  # noqa: F811
    text = tmp_path / "pt.txt"
    text.write_text("Olá {{ guest.first_name }}, o código é {{ code }} ({{ check_in }}).")
    saved = doorcode(
        "template",
        "set",
        "check_in_instructions",
        "sms",
        "pt",
        "--text",
        str(text),
        "--property",
        "f1",
    )
    assert saved.output.startswith("saved template tpl_")
    shown = doorcode(
        "template", "show", "check_in_instructions", "sms", "pt-BR", "--property", "f1"
    )
    assert shown.output.startswith("# property:pt tpl_")
    preview = doorcode(
        "template", "preview", "check_in_instructions", "sms", "pt-BR", "--property", "f1"
    )
    assert "Olá Alex, o código é 123456 (" in preview.output
    assert re.search(r"\d+ de \w+ de 20\d\d", preview.output)  # a Portuguese date
    email = doorcode("template", "preview", "access_changed", "email").output
    assert "Subject: New access details for Sample Flat" in email
    assert "check_in" in doorcode("template", "variables").output


def test_rules_and_the_host_contact(doorcode, flat):  # noqa: F811
    doorcode("rules", "set", "f1", "--days-before", "3", "--at", "09:30", "--no-send-if-late")
    rules = json.loads(doorcode("rules", "show", "f1", "--json").output)
    assert (rules["days_before"], rules["send_at"], rules["send_if_late"]) == (3, "09:30:00", False)
    assert (
        "between 0 and 30" in doorcode("rules", "set", "f1", "--days-before", "45", expect=1).output
    )
    assert "no property 'nope'" in doorcode("rules", "show", "nope", expect=1).output
    assert "acme (the organisation's name)" in doorcode("org", "contact").output
    doorcode("org", "contact", "--name", "Marta", "--phone", "+351 210 000 000")
    assert doorcode("org", "contact").output.strip() == (
        "host: Marta; email: –; phone: +351 210 000 000"
    )
    for option, value, reason in [
        ("--email", "nope", "is not an email address"),
        ("--phone", "call me", "is not a phone number"),
        ("--phone", "+351 " + "2" * 40, "is not a phone number"),
    ]:
        assert reason in doorcode("org", "contact", option, value, expect=1).output
    assert doorcode("org", "contact").output.strip() == (
        "host: Marta; email: –; phone: +351 210 000 000"
    )


def test_a_pass_sends_what_is_due_and_the_log_shows_it(doorcode, flat, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DOORCODE_CONSOLE_MESSAGES", "1")
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)  # the CLI runs on the real clock
    for guest, email, ref in (("Ada", ["--email", "ada@example.org"], "X1"), ("Nobody", [], "X2")):
        doorcode(
            "reservation",
            "add",
            "--property",
            "f1",
            "--check-in",
            tomorrow.isoformat(),
            "--check-out",
            (tomorrow + timedelta(days=3)).isoformat(),
            "--guest",
            guest,
            *email,
            "--locale",
            "en-GB",
            "--external-id",
            ref,
        )
    assert "dispatched 0 message(s)" in doorcode("messages", "run").output
    record_codes_set_for(Settings(), "X1")  # stands in for lock sync's reconciler
    sent = doorcode("messages", "run").output
    assert "Message to Ada <ada@example.org>" in sent
    assert "dispatched 1 message(s); sent 1" in sent
    listed = json.loads(doorcode("messages", "list", "--json").output)
    assert {(row["status"], row["recipient"]) for row in listed} == {
        ("sent", "a***@example.org"),
        ("scheduled", None),
    }
    nobody = next(row for row in listed if row["status"] == "scheduled")["reservation_id"]
    warned = doorcode("messages", "list", "--reservation", nobody).output
    assert "Warning: the guest has no email address or phone number" in warned
    sent_only = json.loads(doorcode("messages", "list", "--status", "sent", "--json").output)
    assert [row["status"] for row in sent_only] == ["sent"]
    typo = doorcode("messages", "list", "--status", "snet", expect=2).output
    assert "'snet' is none of" in typo


def record_codes_set_for(settings, external_id):
    runtime = bootstrap(settings, migrate=False)
    with runtime.uow() as uow:
        organisation = uow.organisations.all()[0]
        found = uow.reservations.search(organisation.id, ReservationFilter())
        reservation = next(r for r in found if r.external_id == external_id)
        grant = uow.grants.guest_grant_of(reservation.id)
        uow.events.record(
            grant.organisation_id,
            at=uow.now,
            actor="sync:stand-in",
            kind="GrantCodesSet",
            subject=("grant", grant.id),
            details={"after": {"version": grant.version}},
        )
        uow.commit()
    runtime.close()


def test_template_list_names_the_property_on_its_clock(doorcode, flat, tmp_path, monkeypatch):  # noqa: F811
    from rich.console import Console

    from doorcode.cli import context

    monkeypatch.setattr(context, "_console", Console(width=200))
    text = tmp_path / "pt.txt"
    text.write_text("Olá {{ guest.first_name }}, o código é {{ code }}.")
    doorcode("template", "set", "check_in_instructions", "sms", "pt", "--text", str(text))
    doorcode(
        "template", "set", "check_in_instructions", "sms", "pt", "--text", str(text),
        "--property", "f1",
    )  # fmt: skip
    listed = doorcode("template", "list").output
    assert "Flat 1" in listed
    assert "(account)" in listed
    assert "prp_" not in listed
    assert "UTC" not in listed
    # Lisbon is on WET or WEST, whatever the date; the one property makes it the account's too.
    assert len(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} WES?T", listed)) == 2
