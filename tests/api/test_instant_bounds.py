"""Instants far outside any real stay are refused with the field named, and change nothing."""

import pytest

from tests.api.conftest import database_dump


@pytest.fixture
def flat(client, keys):
    body = {"name": "Flat 1", "time_zone": "Pacific/Kiritimati", "external_id": "flat-1"}
    prop = client.post("/api/v1/properties", json=body, headers=keys.owner).json()
    lock = client.post("/api/v1/locks", json={"name": "Flat 1 door"}, headers=keys.owner).json()
    client.put(f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner)
    return prop


def grant_body(**changes):
    body = {
        "kind": "staff",
        "holder": "cleaner",
        "property": "flat-1",
        "starts_at": "2026-12-04T10:00:00Z",
        "ends_at": "2026-12-04T14:00:00Z",
    }
    return body | changes


def booking(**changes):
    body = {
        "source": "pms",
        "external_id": "HX-1",
        "property": "flat-1",
        "check_in": "2026-12-04",
        "check_out": "2026-12-07",
        "guest": {"name": "Ada"},
    }
    return body | changes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (grant_body(starts_at="0001-01-01T00:00:00Z"), "starts_at"),
        (grant_body(starts_at="0001-01-01T00:00:00+05:00"), "starts_at"),
        (grant_body(ends_at="9999-12-31T23:59:30Z"), "ends_at"),
        (grant_body(ends_at="9999-12-31T23:59:59-05:00"), "ends_at"),
        (grant_body(starts_at="1999-12-31T23:59:59Z"), "starts_at"),
        (grant_body(ends_at="2200-01-01T00:00:01Z"), "ends_at"),
    ],
)
def test_a_grant_outside_the_accepted_years_is_refused_naming_the_field(
    client, keys, flat, runtime, body, field
):
    before = database_dump(runtime)
    answer = client.post("/api/v1/grants", json=body, headers=keys.owner)
    assert answer.status_code == 422, answer.text
    # An offset that takes the instant past datetime's own range is refused while reading it.
    assert answer.json()["error"] in {"instant_out_of_range", "invalid_request"}
    assert answer.json()["fields"][0]["field"] == field
    if answer.json()["error"] == "instant_out_of_range":
        assert "2000-01-02 and 2199-12-30" in answer.json()["message"]
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (booking(check_in="0001-01-01"), "check_in"),
        (booking(check_out="9999-12-31"), "check_out"),
        (booking(check_in="2199-12-31", check_out="2200-01-02"), "check_in"),
    ],
)
def test_a_booking_outside_the_accepted_years_is_refused_naming_the_field(
    client, keys, flat, runtime, body, field
):
    before = database_dump(runtime)
    answer = client.post("/api/v1/reservations", json=body, headers=keys.owner)
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"] == field
    assert database_dump(runtime) == before


def test_the_last_accepted_day_in_the_furthest_zone_still_books(client, keys, flat):
    body = booking(check_in="2199-12-28", check_out="2199-12-30")
    answer = client.post("/api/v1/reservations", json=body, headers=keys.owner)
    assert answer.status_code == 201, answer.text


def test_an_offline_code_outside_the_accepted_years_is_refused(client, keys, runtime):
    before = database_dump(runtime)
    body = {
        "key_group": "nowhere",
        "holder": "plumber",
        "starts_at": "0001-01-01T00:00:00Z",
        "ends_at": "2026-12-04T14:00:00Z",
    }
    answer = client.post("/api/v1/offline/codes", json=body, headers=keys.owner)
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"] == "starts_at"
    assert database_dump(runtime) == before
