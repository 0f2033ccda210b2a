"""Inputs a hostile tester tried: each is a 4xx with a reason, and nothing stored changes."""

from datetime import timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from tests.api.conftest import bearer, database_dump
from tests.builders import make_owner

NOT_NULL = [
    "name",
    "time_zone",
    "check_in_time",
    "check_out_time",
    "code_length",
    "code_alphabet",
    "native_lead_minutes",
    "unscheduled_lead_minutes",
    "code_reveal_hours",
    "backup_codes",
]


@pytest.fixture
def flat(client, keys):
    body = {"name": "Flat", "time_zone": "Europe/Lisbon", "external_id": "flat-1"}
    return client.post("/api/v1/properties", json=body, headers=keys.owner).json()


@pytest.mark.parametrize("field", NOT_NULL)
def test_a_null_setting_is_refused_with_its_field_named(client, keys, runtime, flat, field):
    before = database_dump(runtime)
    answer = client.patch("/api/v1/properties/flat-1", json={field: None}, headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")
    assert answer.json()["fields"][0]["field"] == field
    assert "cannot be null" in answer.json()["message"]
    assert database_dump(runtime) == before


def test_the_schema_says_which_settings_take_null(client):
    fields = client.get("/openapi.json").json()["components"]["schemas"]["PropertyChangesBody"]
    nullable = {
        name
        for name, schema in fields["properties"].items()
        if {"type": "null"} in schema.get("anyOf", [])
    }
    assert nullable == {"external_id", "address", "turnover_holder"}


def test_a_null_external_id_unlinks_the_property_from_its_pms_listing(client, keys, flat):
    answer = client.patch(
        f"/api/v1/properties/{flat['id']}", json={"external_id": None}, headers=keys.owner
    )
    assert (answer.status_code, answer.json()["external_id"]) == (200, None)
    assert client.get("/api/v1/properties/flat-1", headers=keys.owner).status_code == 404


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "Flat", "time_zone": "\xff\xfe"}',  # not UTF-8
        b"[" * 5000,  # deeper than the parser recurses
        b'{"name": ',
    ],
)
def test_a_malformed_json_body_is_422_invalid_json(client, keys, runtime, content):
    before = database_dump(runtime)
    headers = {**keys.owner, "Content-Type": "application/json"}
    answer = client.post("/api/v1/properties", content=content, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_json")
    assert database_dump(runtime) == before


def test_options_lists_every_method_of_the_path(client, keys, flat):
    answer = client.options("/api/v1/properties/flat-1", headers=keys.owner)
    assert answer.status_code == 204
    assert answer.headers["allow"] == "GET, OPTIONS, PATCH"


def test_a_method_the_path_lacks_is_405_listing_the_ones_it_has(client, keys, runtime, flat):
    before = database_dump(runtime)
    answer = client.delete("/api/v1/properties/flat-1", headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, OPTIONS, PATCH"
    assert "GET, OPTIONS, PATCH" in answer.json()["message"]
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    "since", ["0.5", "1700000000", "2026-11-23T09:00:00", "0001-01-01T00:00:00+01:00"]
)
def test_since_takes_only_a_date_time_with_an_offset(client, keys, since):
    answer = client.get("/api/v1/events", params={"since": since}, headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "since"


def test_since_with_an_offset_is_read_as_that_instant(client, keys, flat, clock):
    plus_two = timezone(timedelta(hours=2))
    events = []
    for moment in (clock.now - timedelta(seconds=1), clock.now + timedelta(seconds=1)):
        since = moment.astimezone(plus_two).isoformat()
        answer = client.get("/api/v1/events", params={"since": since}, headers=keys.owner)
        events.append([event["kind"] for event in answer.json()])
    assert "PropertyAdded" in events[0]
    assert events[1] == []


def test_a_manual_grant_window_given_as_numbers_is_refused(client, keys, runtime, flat):
    before = database_dump(runtime)
    body = {"property": "flat-1", "starts_at": 1796464800, "ends_at": 1796468400.5}
    answer = client.post("/api/v1/grants", json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert {problem["field"] for problem in answer.json()["fields"]} == {"starts_at", "ends_at"}
    assert database_dump(runtime) == before


@pytest.mark.parametrize("check_in", [0, 1796464800, "20261204", "1796464800"])
def test_a_check_in_given_as_a_number_is_refused_not_read_as_1970(client, keys, runtime, check_in):
    client.post("/api/v1/properties", json={"name": "Flat", "time_zone": "UTC"}, headers=keys.owner)
    before = database_dump(runtime)
    body = {
        "external_id": "B-1",
        "property": "Flat",
        "check_in": check_in,
        "check_out": "2026-12-07",
    }
    answer = client.post("/api/v1/reservations", json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "check_in"
    assert database_dump(runtime) == before


def test_send_at_is_described_and_read_as_a_local_time(client, keys, runtime, flat):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    send_at = schema["MessageRulesChangesBody"]["properties"]["send_at"]["anyOf"][0]
    assert "format" not in send_at
    assert "offset" in send_at["description"]
    path = f"/api/v1/properties/{flat['id']}/message-rules"
    before = database_dump(runtime)
    answer = client.patch(path, json={"send_at": "10:00:00Z"}, headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "send_at"
    assert "no offset" in answer.json()["message"]
    assert database_dump(runtime) == before
    answer = client.patch(path, json={"send_at": "10:00:00"}, headers=keys.owner)
    assert answer.json()["send_at"] == "10:00:00"


def test_a_check_in_time_with_an_offset_is_refused(client, keys, runtime, flat):
    before = database_dump(runtime)
    body = {"check_in_time": "10:00+05:00"}
    answer = client.patch("/api/v1/properties/flat-1", json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "check_in_time"
    assert database_dump(runtime) == before


@pytest.fixture
def any_client(any_runtime):
    owner = make_owner(any_runtime, "acme")
    secret = create_api_key(any_runtime.uow(), owner, "owner", Role.OWNER).secret
    with TestClient(create_app(any_runtime)) as test_client:
        test_client.headers.update(bearer(secret))
        answer = test_client.post(
            "/api/v1/properties", json={"name": "Flat", "time_zone": "UTC", "external_id": "f1"}
        )
        assert answer.status_code == 201
        yield test_client


NUL_REQUESTS = [
    ("post", "/api/v1/properties", {"name": "Fl\x00at", "time_zone": "UTC"}, None, "name"),
    ("patch", "/api/v1/properties/f1", {"external_id": "f\x002"}, None, "external_id"),
    (
        "post",
        "/api/v1/reservations",
        {
            "external_id": "B-1",
            "property": "f1",
            "check_in": "2026-12-04",
            "check_out": "2026-12-07",
            "guest": {"name": "Ada\x00"},
        },
        None,
        "guest.name",
    ),
    ("get", "/api/v1/reservations", None, {"property": "f\x001"}, "property"),
    ("get", "/api/v1/properties/f%001", None, None, "path"),
]


@pytest.mark.parametrize(("method", "path", "body", "query", "field"), NUL_REQUESTS)
def test_a_nul_character_anywhere_is_422_on_either_database(
    any_client, any_runtime, method, path, body, query, field
):
    before = database_dump(any_runtime)
    answer = any_client.request(method, path, json=body, params=query)
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_text")
    assert answer.json()["fields"] == [
        {"field": field, "message": "text may not contain the NUL character"}
    ]
    assert database_dump(any_runtime) == before


def test_a_second_content_type_header_does_not_let_a_nul_through(any_client, any_runtime):
    """The framework reads the first Content-Type; the guard must not read only the last."""
    before = database_dump(any_runtime)
    body = b'{"name": "Fl\\u0000at", "time_zone": "UTC"}'
    answer = any_client.post(
        "/api/v1/properties",
        content=body,
        headers=[("content-type", "application/json"), ("content-type", "text/plain")],
    )
    assert answer.status_code == 422, answer.text
    assert database_dump(any_runtime) == before
