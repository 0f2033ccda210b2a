"""Guest messages over the API: templates, previews, rules, the log, host contact."""

import pytest

from doorcode.domain.messages import ChannelName, DeliveryStatus
from doorcode.notify.channels import Channels
from doorcode.notify.console import ConsoleChannel
from doorcode.notify.loop import run_messages_once
from doorcode.store.models import MessageDelivery
from tests.api.conftest import database_dump

GOOD_SMS = {"text": "{{ property.name }}: code {{ code }} from {{ check_in }}"}


@pytest.fixture
def flat(client, keys):
    prop = client.post(
        "/api/v1/properties",
        json={"name": "Flat", "time_zone": "Europe/Lisbon", "address": "Rua Augusta 1"},
        headers=keys.owner,
    ).json()
    lock = client.post("/api/v1/locks", json={"name": "Street door"}, headers=keys.owner).json()
    return client.put(
        f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner
    ).json()


def test_a_property_has_an_address_that_can_change_and_be_cleared(client, keys, flat):
    assert flat["address"] == "Rua Augusta 1"
    path = f"/api/v1/properties/{flat['id']}"
    changed = client.patch(path, json={"address": "Rua Nova 2"}, headers=keys.owner)
    assert changed.json()["address"] == "Rua Nova 2"
    assert client.patch(path, json={"address": None}, headers=keys.owner).json()["address"] == ""


BAD_TEMPLATES = [
    (
        {"text": "Hi {{ guest.nmae }}\n{{ ''.__class__ }}"},
        [
            {
                "field": "text",
                "line": 1,
                "message": "unknown variable guest.nmae (known: first_name, locale, name)",
            },
            {
                "field": "text",
                "line": 2,
                "message": "''.__class__: names starting with '_' are not reachable",
            },
        ],
    ),
    (
        {"text": "{% for x in all_access_codes %}\n{{ x.code }"},
        [{"field": "text", "line": 2, "message": "unexpected '}'"}],
    ),
    (
        {"text": "{% include 'secrets' %}"},
        [
            {
                "field": "text",
                "line": 1,
                "message": "{% include %} is not allowed: a message template stands alone",
            }
        ],
    ),
    ({"text": ""}, [{"field": "text", "line": None, "message": "is required for this channel"}]),
]


@pytest.mark.parametrize(("body", "fields"), BAD_TEMPLATES)
def test_a_bad_template_is_refused_with_line_and_reason_and_changes_nothing(
    client, keys, runtime, flat, body, fields
):
    before = database_dump(runtime)
    answer = client.put(
        f"/api/v1/templates/check_in_instructions/sms/en?property={flat['id']}",
        json=body,
        headers=keys.owner,
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_template"
    assert answer.json()["fields"] == fields
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/api/v1/templates/check_in_instructions/sms/xx-YY", GOOD_SMS, 422, "invalid_request"),
        ("/api/v1/templates/check_in_instructions/console/en", GOOD_SMS, 422, "invalid_request"),
        ("/api/v1/templates/welcome/sms/en", GOOD_SMS, 422, "invalid_request"),
        (
            "/api/v1/templates/check_in_instructions/sms/en?property=nope",
            GOOD_SMS,
            404,
            "not_found",
        ),
        (
            "/api/v1/templates/check_in_instructions/sms/en",
            {"text": "x", "extra": 1},
            422,
            "invalid_request",
        ),
        (
            "/api/v1/templates/check_in_instructions/sms/en",
            {"text": "x" * 10_001},
            422,
            "invalid_request",
        ),
        (
            "/api/v1/templates/check_in_instructions/whatsapp/en",
            {"text": "{{ code }}", "provider_template": "Not A Name"},
            422,
            "invalid_template",
        ),
    ],
)
def test_bad_template_requests_are_refused_and_change_nothing(
    client, keys, runtime, path, body, status, error
):
    before = database_dump(runtime)
    answer = client.put(path, json=body, headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_a_saved_template_takes_effect_for_its_property_and_language(client, keys, flat):
    path = f"/api/v1/templates/check_in_instructions/sms/pt-br?property={flat['id']}"
    saved = client.put(
        path, json={"text": "Olá {{ guest.first_name }}: {{ code }}"}, headers=keys.manager
    )
    assert saved.status_code == 200
    assert (saved.json()["source"], saved.json()["locale"]) == ("property", "pt-BR")

    shown = client.get(path, headers=keys.viewer).json()
    assert (shown["id"], shown["text"]) == (
        saved.json()["id"],
        "Olá {{ guest.first_name }}: {{ code }}",
    )
    elsewhere = client.get("/api/v1/templates/check_in_instructions/sms/pt-BR", headers=keys.owner)
    assert elsewhere.json()["source"] == "built-in"
    listed = client.get("/api/v1/templates", headers=keys.owner).json()
    assert [t["id"] for t in listed] == [saved.json()["id"]]

    assert client.delete(path, headers=keys.owner).status_code == 204
    assert client.get(path, headers=keys.owner).json()["source"] == "built-in"


def test_only_writers_save_templates_and_strangers_see_none(client, keys, runtime, flat):
    path = "/api/v1/templates/check_in_instructions/sms/en"
    before = database_dump(runtime)
    assert client.put(path, json=GOOD_SMS, headers=keys.viewer).status_code == 403
    assert database_dump(runtime) == before
    client.put(path, json=GOOD_SMS, headers=keys.owner)
    assert client.get("/api/v1/templates", headers=keys.stranger).json() == []
    assert client.get(path, headers=keys.stranger).json()["source"] == "built-in"
    answer = client.get(f"{path}?property={flat['id']}", headers=keys.stranger)
    assert answer.status_code == 404


def test_a_preview_renders_a_sample_stay_at_the_property(client, keys, flat):
    body = {
        "purpose": "check_in_instructions",
        "channel": "email",
        "locale": "en-GB",
        "property": flat["id"],
    }
    preview = client.post("/api/v1/templates/preview", json=body, headers=keys.viewer).json()
    assert preview["source"] == "built-in"
    assert preview["subject"] == "Your door code for Flat"
    assert "Street door: 123456" in preview["text"]
    assert "Rua Augusta 1" in preview["html"]
    assert "15:00" in preview["text"]

    unsaved = {
        **body,
        "channel": "whatsapp",
        "template": {"text": "{{ guest.name }}\n{{ code }}", "provider_template": "stay"},
    }
    preview = client.post("/api/v1/templates/preview", json=unsaved, headers=keys.viewer).json()
    assert (preview["parameters"], preview["provider_template"]) == (
        ["Alex Sample", "123456"],
        "stay",
    )


def test_a_preview_of_a_bad_template_is_refused(client, keys):
    body = {"channel": "sms", "template": {"text": "{{ guest.__dict__ }}"}}
    answer = client.post("/api/v1/templates/preview", json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["line"] == 1


def test_message_rules_have_defaults_and_change_by_parts(client, keys, flat):
    path = f"/api/v1/properties/{flat['id']}/message-rules"
    assert client.get(path, headers=keys.viewer).json() == {
        "property_id": flat["id"],
        "days_before": 2,
        "send_at": "10:00:00",
        "send_if_late": True,
        "on_change": True,
        "on_backup_code": True,
        "alert_hours": 6,
    }
    changed = client.patch(path, json={"days_before": 3, "send_at": "09:30"}, headers=keys.manager)
    assert (changed.json()["days_before"], changed.json()["send_at"]) == (3, "09:30:00")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"days_before": 31}, "days_before", "Input should be less than or equal to 30"),
        ({"days_before": -1}, "days_before", "Input should be greater than or equal to 0"),
        ({"alert_hours": -1}, "alert_hours", "Input should be greater than or equal to 0"),
        ({"alert_hours": 169}, "alert_hours", "Input should be less than or equal to 168"),
        (
            {"send_at": "25:00"},
            "send_at",
            "Input should be in a valid time format, hour value is outside expected range of 0-23",
        ),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_message_rules_are_refused_by_field_and_change_nothing(
    client, keys, runtime, flat, body, field, message
):
    path = f"/api/v1/properties/{flat['id']}/message-rules"
    client.patch(path, json={"days_before": 3}, headers=keys.owner)  # rules of its own to keep
    before = database_dump(runtime)
    answer = client.patch(path, json=body, headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")
    assert answer.json()["fields"] == [{"field": field, "message": message}]
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    ("who", "reference", "status", "error"),
    [
        ("viewer", "flat", 403, "permission_denied"),
        ("owner", "nope", 404, "not_found"),
        ("stranger", "flat", 404, "not_found"),
    ],
)
def test_refused_message_rule_changes_change_nothing(
    client, keys, runtime, flat, who, reference, status, error
):
    target = flat["id"] if reference == "flat" else reference
    before = database_dump(runtime)
    answer = client.patch(
        f"/api/v1/properties/{target}/message-rules",
        json={"days_before": 1},
        headers=getattr(keys, who),
    )
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_the_log_lists_messages_with_masked_recipients_and_filters(
    client, keys, runtime, flat, capsys
):
    booking = {
        "external_id": "B1",
        "property": flat["id"],
        "check_in": "2026-11-24",
        "check_out": "2026-11-26",
        "guest": {"name": "Ada", "email": "ada.lovelace@example.org", "phone": "+351 912 345 678"},
    }
    reservation = client.post("/api/v1/reservations", json=booking, headers=keys.owner).json()
    with runtime.uow() as uow:
        grant = uow.grants.guest_grant_of(reservation["id"])
        uow.events.record(
            grant.organisation_id,
            at=uow.now,
            actor="sync",
            kind="GrantCodesSet",
            subject=("grant", grant.id),
            details={"after": {"version": grant.version}},
        )
        uow.commit()
    console = Channels({ChannelName.CONSOLE: ConsoleChannel()})
    run_messages_once(runtime, console)
    assert "ada.lovelace@example.org" in capsys.readouterr().out

    rows = client.get(
        f"/api/v1/messages?reservation={reservation['id']}", headers=keys.viewer
    ).json()
    [row] = rows
    assert (row["channel"], row["status"], row["recipient"]) == (
        "console",
        "sent",
        "a***@example.org",
    )
    assert row["attempt_log"][0]["outcome"] == "sent"
    assert client.get("/api/v1/messages?status=failed", headers=keys.owner).json() == []
    assert len(client.get("/api/v1/messages?channel=console", headers=keys.owner).json()) == 1
    assert client.get("/api/v1/messages", headers=keys.stranger).json() == []
    assert "ada.lovelace" not in client.get("/api/v1/messages", headers=keys.owner).text
    assert client.get("/api/v1/messages?status=bogus", headers=keys.owner).status_code == 422

    retry = client.post(f"/api/v1/messages/{row['id']}/retry", headers=keys.owner)
    assert (retry.status_code, retry.json()["error"]) == (422, "invalid_request")


def test_the_host_contact_is_the_owners_to_set(client, keys, runtime):
    contact = {"name": "Marta", "email": "hello@acme.example", "phone": "+351 210 000 000"}
    before = database_dump(runtime)
    assert (
        client.put(
            "/api/v1/organisation/host-contact", json=contact, headers=keys.manager
        ).status_code
        == 403
    )
    bad = {**contact, "email": "not-an-address"}
    assert (
        client.put("/api/v1/organisation/host-contact", json=bad, headers=keys.owner).status_code
        == 422
    )
    assert database_dump(runtime) == before
    assert (
        client.put("/api/v1/organisation/host-contact", json=contact, headers=keys.owner).json()
        == contact
    )
    assert client.get("/api/v1/organisation/host-contact", headers=keys.viewer).json() == contact


@pytest.fixture
def failed_delivery(client, keys, runtime, flat, capsys):
    """A console delivery that was sent, then marked failed so that it may be retried."""
    booking = {
        "external_id": "B2",
        "property": flat["id"],
        "check_in": "2026-11-24",
        "check_out": "2026-11-26",
        "guest": {"name": "Ada", "email": "ada@example.org"},
    }
    reservation = client.post("/api/v1/reservations", json=booking, headers=keys.owner).json()
    with runtime.uow() as uow:  # the codes are on the lock: what the message waits for
        grant = uow.grants.guest_grant_of(reservation["id"])
        uow.events.record(
            grant.organisation_id,
            at=uow.now,
            actor="sync",
            kind="GrantCodesSet",
            subject=("grant", grant.id),
            details={"after": {"version": grant.version}},
        )
        uow.commit()
    run_messages_once(runtime, Channels({ChannelName.CONSOLE: ConsoleChannel()}))
    capsys.readouterr()
    with runtime.uow() as uow:
        (delivery,) = uow.session.query(MessageDelivery)
        delivery.status = DeliveryStatus.FAILED.value
        uow.commit()
        delivery_id = delivery.id
    [row] = client.get(
        f"/api/v1/messages?reservation={reservation['id']}", headers=keys.owner
    ).json()
    assert (row["id"], row["status"]) == (delivery_id, "failed")
    return delivery_id


@pytest.mark.parametrize(
    ("who", "which", "status", "error"),
    [
        ("viewer", "failed", 403, "permission_denied"),
        ("owner", "unknown", 404, "not_found"),
        ("stranger", "failed", 404, "not_found"),
    ],
)
def test_refused_retries_change_nothing(
    client, keys, runtime, failed_delivery, who, which, status, error
):
    target = failed_delivery if which == "failed" else "nope"
    before = database_dump(runtime)
    answer = client.post(f"/api/v1/messages/{target}/retry", headers=getattr(keys, who))
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_a_manager_retries_a_failed_delivery(client, keys, failed_delivery):
    """The refusals above are about who asks and what: the same delivery can be retried."""
    retried = client.post(f"/api/v1/messages/{failed_delivery}/retry", headers=keys.manager)
    assert retried.status_code == 200
    assert (retried.json()["id"], retried.json()["status"]) == (failed_delivery, "queued")
