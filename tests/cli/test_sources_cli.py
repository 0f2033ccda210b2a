"""The CLI for sources: webhook sources, deliveries, calendar feeds and pushes."""

import json
from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.sources.deliveries import DeliveryRefused, InboundRequest, receive_delivery
from doorcode.sources.webhook_signature import signed_headers
from tests.conftest import TEST_KEY
from tests.sources.http_server import LocalServer
from tests.sources.test_ical_feeds import airbnb


@pytest.fixture
def doorcode(cli):
    run = cli
    run("org", "add", "acme")
    run("property", "add", "Flat 1", "--zone", "Europe/Lisbon", "--external-id", "f1")
    run("lock", "add", "Front door", "--property", "f1")
    return run


def lines_of(output):
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def test_adding_a_source_prints_its_url_and_secrets_once(doorcode):
    added = lines_of(
        doorcode(
            "source",
            "add",
            "hostaway",
            "--kind",
            "hostaway",
            "--push-url",
            "https://pms.example/hook?token=t0p",
        ).output
    )
    assert added["webhook URL path"].startswith("/webhooks/reservations/src_")
    assert added["basic auth login"] == added["webhook URL path"].rsplit("/", 1)[1]
    assert added["basic auth password"].startswith("dcwh_")
    assert added["push signing secret"].startswith("dcps_")
    listed = doorcode("source", "list", "--json").output
    assert "dcwh_" not in listed
    assert "t0p" not in listed
    assert json.loads(listed)[0]["push_url"] == "https://pms.example/hook?…"


def test_guesty_sources_need_guestys_own_secret(doorcode):
    refused = doorcode("source", "add", "guesty", "--kind", "guesty", expect=1)
    assert "whsec_" in refused.output


def test_a_refused_delivery_is_listed_shown_and_replayed_from_the_cli(
    doorcode, sqlite_url, tmp_path
):
    added = lines_of(doorcode("source", "add", "pms").output)
    source_id = added["webhook URL path"].rsplit("/", 1)[1]
    body = {
        "version": 1,
        "external_id": "X-1",
        "property": "f2",
        "status": "confirmed",
        "check_in": "2030-12-04",
        "check_out": "2030-12-07",
    }
    content = json.dumps(body).encode()
    headers = signed_headers(added["signing secret"], content, datetime.now(UTC), "d-1")
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(settings, rng=Random(1), migrate=False)
    with pytest.raises(DeliveryRefused):
        receive_delivery(
            runtime.uow(),
            source_id,
            InboundRequest(content, {k.lower(): v for k, v in headers.items()}),
        )
    runtime.close()
    listed = json.loads(doorcode("delivery", "list", "--json").output)
    assert [(d["outcome"], d["reason"]) for d in listed] == [("rejected", "unknown_property")]
    shown = json.loads(doorcode("delivery", "show", listed[0]["id"]).output)
    assert json.loads(shown["body"])["external_id"] == "X-1"
    doorcode("property", "add", "Flat 2", "--zone", "Europe/Lisbon", "--external-id", "f2")
    replayed = doorcode("delivery", "replay", listed[0]["id"])
    assert replayed.output.startswith("accepted: delivery dlv_")


def test_feeds_are_added_masked_and_synced_with_a_report(doorcode, monkeypatch):
    monkeypatch.setenv("DOORCODE_FEED_ALLOW_PRIVATE", "1")  # the calendar is on 127.0.0.1
    with LocalServer() as server:
        path = "/calendar/ical/9.ics?s=very-secret"
        soon = datetime.now(UTC).date() + timedelta(days=30)
        server.set(path, airbnb(("a", soon, soon + timedelta(days=2))))
        doorcode("feed", "add", "f1", server.url(path), "--name", "Airbnb", "--interval", "15")
        listed = json.loads(doorcode("feed", "list", "--json").output)
        port = server.url("/").split(":")[2].split("/")[0]
        assert listed[0]["url"] == f"http://127.0.0.1:{port}/calendar/ical/9.ics?…"
        assert listed[0]["interval_minutes"] == 15
        synced = doorcode("feed", "sync").output
    assert "very-secret" not in synced
    assert "ok" in synced
    assert "1 new" in synced
    reservations = json.loads(doorcode("reservation", "list", "--json").output)
    assert reservations[0]["source"] == f"ical:{listed[0]['id']}"


def test_a_feed_on_a_private_address_is_refused_unless_allowed(doorcode):
    with LocalServer() as server:
        path = "/calendar/ical/9.ics?s=very-secret"
        soon = datetime.now(UTC).date() + timedelta(days=30)
        server.set(path, airbnb(("a", soon, soon + timedelta(days=2))))
        doorcode("feed", "add", "f1", server.url(path), "--name", "Airbnb")
        synced = doorcode("feed", "sync", expect=1).output
        assert server.requests_to(path) == []
    assert "could not fetch the calendar" in synced
    assert json.loads(doorcode("reservation", "list", "--json").output) == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/cal.ics", "webcal://localhost/cal.ics", "https://192.168.1.20/c.ics"],
)
def test_adding_a_feed_on_a_private_address_says_it_will_not_be_fetched(doorcode, url):
    """Its every poll reads only "could not fetch the calendar" (so a feed cannot map the
    network); the one who typed the address is told at once what it takes."""
    added = doorcode("feed", "add", "f1", url).output
    assert "DOORCODE_FEED_ALLOW_PRIVATE=1" in " ".join(added.split()), added


@pytest.mark.parametrize(
    ("allowed", "url"),
    [("1", "http://127.0.0.1:8080/cal.ics"), ("0", "https://www.airbnb.com/calendar/ical/1.ics")],
)
def test_adding_a_feed_that_will_be_fetched_has_no_such_note(doorcode, monkeypatch, allowed, url):
    monkeypatch.setenv("DOORCODE_FEED_ALLOW_PRIVATE", allowed)
    assert "DOORCODE_FEED_ALLOW_PRIVATE" not in doorcode("feed", "add", "f1", url).output


def test_feed_sync_exits_with_1_when_a_feed_failed_and_0_for_an_empty_calendar(
    doorcode, monkeypatch
):
    monkeypatch.setenv("DOORCODE_FEED_ALLOW_PRIVATE", "1")  # the calendar is on 127.0.0.1
    with LocalServer() as server:
        server.set("/down.ics", b"Internal Server Error", status=500)
        doorcode("feed", "add", "f1", server.url("/down.ics"), "--name", "Airbnb")
        failed = doorcode("feed", "sync", expect=1).output
        assert "http_error" in failed
        assert "1 of 1 feed(s) could not be read" in failed
        alerts = doorcode("alerts").output
        assert "Airbnb" in alerts
        server.set("/down.ics", airbnb())
        assert "empty" in doorcode("feed", "sync").output
        assert "Airbnb" not in doorcode("alerts").output


def test_push_list_shows_an_empty_log(doorcode):
    assert json.loads(doorcode("push", "list", "--json").output) == []


@pytest.mark.parametrize(
    ("command", "option", "choices"),
    [
        (("push", "list"), "--status", ["pending", "delivered", "failed"]),
        (
            ("delivery", "list"),
            "--outcome",
            ["accepted", "unchanged", "stale", "ignored", "rejected"],
        ),
    ],
)
def test_a_filters_choices_are_in_its_help_and_any_other_value_is_a_usage_error(
    doorcode, command, option, choices
):
    assert f"{option} <{'|'.join(choices)}>" in doorcode(*command, "--help").output
    refused = doorcode(*command, option, "sent", expect=2)
    assert f"Invalid value for '{option}'" in refused.stderr
    assert ", ".join(repr(choice) for choice in choices) in refused.stderr
    assert json.loads(doorcode(*command, option, choices[-1], "--json").output) == []
