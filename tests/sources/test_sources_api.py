"""/api/v1/sources and /api/v1/deliveries: secrets shown once, deliveries listed and replayed."""

import json
from datetime import date

import pytest

from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from tests.api.conftest import database_dump
from tests.builders import make_owner, make_property
from tests.sources.conftest import booking, signed
from tests.sources.http_server import LocalServer
from tests.sources.test_ical_feeds import airbnb


@pytest.fixture
def keys(runtime, world):
    issued = {role: create_api_key(runtime.uow(), world.owner, role.value, role) for role in Role}
    return {role: {"Authorization": f"Bearer {key.secret}"} for role, key in issued.items()}


def test_owners_add_sources_and_see_their_secrets_once(client, keys):
    token = "push-url-token-never-listed"  # random ids cannot contain this by chance
    body = {
        "name": "hostaway-2",
        "kind": "hostaway",
        "push_url": f"https://pms.example/hook?k={token}",
    }
    added = client.post("/api/v1/sources", json=body, headers=keys[Role.OWNER])
    assert added.status_code == 201
    shown = added.json()
    assert shown["secret"].startswith("dcwh_")
    assert shown["push_secret"].startswith("dcps_")
    assert shown["basic_auth_login"] == shown["id"]
    assert shown["webhook_path"] == f"/webhooks/reservations/{shown['id']}"
    assert shown["push_url"] == "https://pms.example/hook?…"
    listed = client.get("/api/v1/sources", headers=keys[Role.VIEWER]).json()
    assert "secret" not in json.dumps(listed)
    assert token not in json.dumps(listed)


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        (Role.MANAGER, {"name": "x"}, 403),
        (Role.OWNER, {"name": "has space"}, 422),
        (Role.OWNER, {"name": "pms"}, 409),
        (Role.OWNER, {"name": "g", "kind": "guesty"}, 422),
        (Role.OWNER, {"name": "p", "push_url": "ftp://pms.example/"}, 422),
    ],
)
def test_sources_are_refused_cleanly(client, keys, role, body, status):
    assert client.post("/api/v1/sources", json=body, headers=keys[role]).status_code == status


def test_a_refused_delivery_is_replayed_once_its_property_exists(
    client, runtime, world, keys, clock
):
    content = json.dumps(booking(property="flat-2")).encode()
    path = f"/webhooks/reservations/{world.generic.source.id}"
    refused = client.post(path, content=content, headers=signed(world.generic, content, clock.now))
    assert refused.json()["error"] == "unknown_property"
    delivery_id = refused.json()["delivery_id"]

    listed = client.get("/api/v1/deliveries?outcome=rejected", headers=keys[Role.VIEWER]).json()
    assert [d["id"] for d in listed] == [delivery_id]
    shown = client.get(f"/api/v1/deliveries/{delivery_id}", headers=keys[Role.VIEWER]).json()
    assert json.loads(shown["body"])["property"] == "flat-2"
    assert shown["headers"]["x-doorcode-signature"] == "***"

    make_property(runtime, world.owner, "Flat 2", external_id="flat-2")
    replay = f"/api/v1/deliveries/{delivery_id}/replay"
    assert client.post(replay, headers=keys[Role.VIEWER]).status_code == 403
    replayed = client.post(replay, headers=keys[Role.MANAGER])
    assert replayed.status_code == 200
    assert replayed.json()["outcome"] == "accepted"
    again = client.post(replay, headers=keys[Role.MANAGER]).json()
    assert again["outcome"] == "unchanged"
    events = client.get("/api/v1/events?kind=ReservationRecorded", headers=keys[Role.OWNER])
    assert events.json()[0]["actor"].startswith("source:pms (replayed by api-key:manager)")


def test_deliveries_that_never_proved_their_origin_cannot_be_replayed(
    client, runtime, world, keys, clock
):
    content = json.dumps(booking()).encode()
    path = f"/webhooks/reservations/{world.generic.source.id}"
    forged = client.post(path, content=content, headers={"X-Doorcode-Signature": "sha256=0"})
    assert forged.status_code == 401
    replay = f"/api/v1/deliveries/{forged.json()['delivery_id']}/replay"
    answer = client.post(replay, headers=keys[Role.OWNER])
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")


def test_another_organisations_deliveries_are_not_found(client, runtime, world, keys, clock):
    stranger = make_owner(runtime, "other")
    theirs = create_api_key(runtime.uow(), stranger, "theirs", Role.OWNER).secret
    content = json.dumps(booking()).encode()
    path = f"/webhooks/reservations/{world.generic.source.id}"
    delivery_id = client.post(
        path, content=content, headers=signed(world.generic, content, clock.now)
    ).json()["delivery_id"]
    answer = client.get(
        f"/api/v1/deliveries/{delivery_id}", headers={"Authorization": f"Bearer {theirs}"}
    )
    assert answer.status_code == 404


def test_feeds_are_added_listed_masked_and_synced_through_the_api(
    client, runtime, world, keys, monkeypatch
):
    monkeypatch.setattr(runtime.settings, "feed_allow_private", True)  # served on 127.0.0.1
    with LocalServer() as server:
        path = "/ical/5.ics?s=hush-never-listed-0"
        server.set(path, airbnb(("a", date(2026, 12, 4), date(2026, 12, 6))))
        body = {"property": "flat-1", "url": server.url(path)}
        refused = client.post("/api/v1/feeds", json=body, headers=keys[Role.VIEWER])
        assert refused.status_code == 403
        added = client.post("/api/v1/feeds", json=body, headers=keys[Role.MANAGER])
        assert added.status_code == 201
        assert added.json()["url"] == server.url("/ical/5.ics") + "?…"
        feed_id = added.json()["id"]
        synced = client.post(f"/api/v1/feeds/{feed_id}/sync", headers=keys[Role.MANAGER])
    assert (synced.json()["outcome"], synced.json()["created"]) == ("ok", 1)
    listed = client.get("/api/v1/feeds", headers=keys[Role.VIEWER]).json()
    assert [(f["id"], f["last_outcome"]) for f in listed] == [(feed_id, "ok")]
    assert "hush-never-listed-0" not in json.dumps(listed)


def test_bad_feed_urls_are_refused(client, keys):
    body = {"property": "flat-1", "url": "file:///etc/passwd"}
    answer = client.post("/api/v1/feeds", json=body, headers=keys[Role.OWNER])
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")


@pytest.fixture
def used_keys(client, keys):
    """The keys, each used once, so a later use changes no last_used_at in a database dump."""
    for headers in keys.values():
        client.get("/api/v1/feeds", headers=headers)
    return keys


GOOD_FEED = {"property": "flat-1", "url": "https://www.airbnb.com/calendar/ical/1.ics?s=x"}


@pytest.mark.parametrize(
    ("role", "changes", "status", "error"),
    [
        (Role.OWNER, {"property": "nope"}, 404, "not_found"),
        (Role.OWNER, {"interval_minutes": 0}, 422, "invalid_request"),
        (Role.OWNER, {"interval_minutes": -5}, 422, "invalid_request"),
        (Role.OWNER, {"interval_minutes": 1441}, 422, "invalid_request"),
        (Role.OWNER, {"colour": "red"}, 422, "invalid_request"),
        (Role.VIEWER, {}, 403, "permission_denied"),
    ],
)
def test_bad_feeds_are_refused_and_change_nothing(
    client, runtime, used_keys, role, changes, status, error
):
    before = database_dump(runtime)
    answer = client.post("/api/v1/feeds", json={**GOOD_FEED, **changes}, headers=used_keys[role])
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_a_good_feed_body_is_accepted(client, keys):
    """The bad bodies above differ from this one by one field each."""
    answer = client.post("/api/v1/feeds", json=GOOD_FEED, headers=keys[Role.MANAGER])
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("role", "which", "status", "error"),
    [
        (Role.OWNER, "unknown", 404, "not_found"),
        (Role.VIEWER, "ours", 403, "permission_denied"),
        ("stranger", "ours", 404, "not_found"),
    ],
)
def test_refused_feed_syncs_fetch_nothing_and_change_nothing(
    client, runtime, world, used_keys, role, which, status, error
):
    keys = used_keys
    with LocalServer() as server:
        path = "/ical/6.ics"
        server.set(path, airbnb(("a", date(2026, 12, 4), date(2026, 12, 6))))
        body = {"property": "flat-1", "url": server.url(path)}
        feed_id = client.post("/api/v1/feeds", json=body, headers=keys[Role.OWNER]).json()["id"]
        if role == "stranger":
            stranger = make_owner(runtime, "other")
            secret = create_api_key(runtime.uow(), stranger, "theirs", Role.OWNER).secret
            headers = {"Authorization": f"Bearer {secret}"}
            client.get("/api/v1/feeds", headers=headers)  # settles the key's last_used_at
        else:
            headers = keys[role]
        before = database_dump(runtime)
        target = feed_id if which == "ours" else "nope"
        answer = client.post(f"/api/v1/feeds/{target}/sync", headers=headers)
        assert (answer.status_code, answer.json()["error"]) == (status, error)
        assert server.requests_to(path) == []
    assert database_dump(runtime) == before
