"""/api/v1/sources and /api/v1/deliveries: secrets shown once, deliveries listed and replayed."""

import json

import pytest

from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from tests.builders import make_owner, make_property
from tests.sources.conftest import booking, signed


@pytest.fixture
def keys(runtime, world):
    issued = {role: create_api_key(runtime.uow(), world.owner, role.value, role) for role in Role}
    return {role: {"Authorization": f"Bearer {key.secret}"} for role, key in issued.items()}


def test_owners_add_sources_and_see_their_secrets_once(client, keys):
    body = {"name": "hostaway-2", "kind": "hostaway", "push_url": "https://pms.example/hook?k=s3"}
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
    assert "s3" not in json.dumps(listed)


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
