"""What the API says about a request it cannot take: the parameter or field, in words."""

import pytest

from tests.api.conftest import database_dump


@pytest.fixture
def loft(client, keys):
    client.post(
        "/api/v1/properties",
        json={"name": "Loft", "time_zone": "Europe/Lisbon", "external_id": "bk-loft"},
        headers=keys.owner,
    )
    client.post(
        "/api/v1/properties",
        json={"name": "Barn", "time_zone": "Europe/Lisbon", "external_id": "barn"},
        headers=keys.owner,
    )
    for ref, place in (("L1", "bk-loft"), ("B1", "barn")):
        answer = client.post(
            "/api/v1/reservations",
            json={
                "external_id": ref,
                "property": place,
                "check_in": "2099-07-01",
                "check_out": "2099-07-03",
            },
            headers=keys.owner,
        )
        assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reservations",
        "/api/v1/properties",
        "/api/v1/locks",
        "/api/v1/grants",
        "/api/v1/events",
        "/api/v1/alerts",
        "/api/v1/messages",
        "/api/v1/feeds",
    ],
)
def test_an_unknown_query_parameter_is_refused_on_every_list(client, keys, path):
    answer = client.get(path, params={"colour": "blue"}, headers=keys.viewer)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "unknown_query_parameter"
    assert body["fields"][0]["field"] == "colour"


def test_property_instead_of_property_id_no_longer_lists_everything(client, keys, loft):
    answer = client.get("/api/v1/reservations", params={"property": "bk-loft"}, headers=keys.viewer)
    assert answer.status_code == 422
    assert "property_id" in answer.json()["message"]


def test_known_parameters_still_work(client, keys, loft):
    answer = client.get("/api/v1/reservations", params={"limit": 1}, headers=keys.viewer)
    assert answer.status_code == 200
    assert len(answer.json()) == 1


def test_the_property_filter_takes_the_external_id_the_post_took(client, keys, loft):
    answer = client.get(
        "/api/v1/reservations", params={"property_id": "bk-loft"}, headers=keys.viewer
    )
    assert answer.status_code == 200, answer.text
    assert [r["external_id"] for r in answer.json()] == ["L1"]
    missing = client.get(
        "/api/v1/reservations", params={"property_id": "nowhere"}, headers=keys.viewer
    )
    assert missing.status_code == 404
    assert "nowhere" in missing.json()["message"]


def test_a_malformed_email_is_explained_in_words(client, keys, loft, runtime):
    before = database_dump(runtime)
    answer = client.post(
        "/api/v1/reservations",
        json={
            "external_id": "X",
            "property": "bk-loft",
            "check_in": "2099-07-01",
            "check_out": "2099-07-03",
            "guest": {"email": "not-an-email", "phone": "call me", "locale": "portuguese!"},
        },
        headers=keys.owner,
    )
    assert answer.status_code == 422
    messages = {field["field"]: field["message"] for field in answer.json()["fields"]}
    assert messages["guest.email"] == "is not an email address like ada@example.org"
    assert "phone number" in messages["guest.phone"]
    assert "language" in messages["guest.locale"]
    assert "^" not in answer.text
    assert database_dump(runtime) == before


def test_check_out_before_check_in_names_the_check_out_field(client, keys, loft, runtime):
    before = database_dump(runtime)
    answer = client.post(
        "/api/v1/reservations",
        json={
            "external_id": "X",
            "property": "bk-loft",
            "check_in": "2099-07-03",
            "check_out": "2099-07-01",
        },
        headers=keys.owner,
    )
    assert answer.status_code == 422
    [field] = answer.json()["fields"]
    assert field["field"] == "check_out"
    assert field["message"] == "check-out 2099-07-01 is before check-in 2099-07-03"
    assert database_dump(runtime) == before
