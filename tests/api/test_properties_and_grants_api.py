"""Properties, locks and manual grants over the API, bad inputs included."""

import pytest

from tests.api.conftest import database_dump


@pytest.fixture
def flat(client, keys):
    prop = client.post(
        "/api/v1/properties", json={"name": "Flat", "time_zone": "Europe/Paris"}, headers=keys.owner
    ).json()
    lock = client.post("/api/v1/locks", json={"name": "door"}, headers=keys.owner).json()
    return client.put(
        f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner
    ).json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Flat", "time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"name": "Flat", "time_zone": "UTC", "code_length": 3}, "code_length"),
        ({"name": "Flat", "time_zone": "UTC", "code_length": 11}, "code_length"),
        ({"name": "", "time_zone": "UTC"}, "name"),
        ({"name": "Flat", "time_zone": "UTC", "code_alphabet": "emoji"}, "code_alphabet"),
    ],
)
def test_bad_properties_are_refused_with_the_field_named(client, keys, runtime, body, field):
    before = database_dump(runtime)
    answer = client.post("/api/v1/properties", json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert [problem["field"] for problem in answer.json()["fields"]] == [field]
    assert database_dump(runtime) == before


def test_a_lock_that_cannot_take_the_property_code_length_is_not_linked(
    client, keys, flat, runtime
):
    short = client.post(
        "/api/v1/locks",
        json={"name": "old keypad", "capabilities": {"code_lengths": [4]}},
        headers=keys.owner,
    ).json()
    before = database_dump(runtime)
    answer = client.put(f"/api/v1/properties/{flat['id']}/locks/{short['id']}", headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_code_policy"
    assert database_dump(runtime) == before


def test_a_duplicate_lock_is_a_conflict(client, keys, flat):
    answer = client.post("/api/v1/locks", json={"name": "door"}, headers=keys.owner)
    assert answer.status_code == 409
    assert answer.json()["error"] == "already_exists"


def test_changing_the_zone_moves_current_grants(client, keys, flat):
    booking = {
        "external_id": "B1",
        "property": flat["id"],
        "check_in": "2026-12-04",
        "check_out": "2026-12-06",
    }
    grant_id = client.post("/api/v1/reservations", json=booking, headers=keys.owner).json()[
        "grant_id"
    ]
    client.patch(
        f"/api/v1/properties/{flat['id']}", json={"time_zone": "Asia/Tokyo"}, headers=keys.owner
    )
    grant = client.get(f"/api/v1/grants/{grant_id}", headers=keys.owner).json()
    assert grant["starts_at"] == "2026-12-04T06:00:00Z"


def staff_grant(flat, **extra):
    return {
        "kind": "staff",
        "holder": "Cleaner",
        "starts_at": "2026-12-01T09:00:00+01:00",
        "ends_at": "2026-12-01T13:00:00+01:00",
        "property": flat["id"],
        **extra,
    }


def test_a_staff_code_can_be_created_revoked_and_regenerated(client, keys, flat):
    created = client.post("/api/v1/grants", json=staff_grant(flat), headers=keys.manager)
    assert created.status_code == 201
    grant = created.json()
    assert grant["state"] == "scheduled"
    first = client.get(f"/api/v1/grants/{grant['id']}/code", headers=keys.manager).json()["code"]
    client.post(f"/api/v1/grants/{grant['id']}/regenerate", headers=keys.manager)
    second = client.get(f"/api/v1/grants/{grant['id']}/code", headers=keys.manager).json()["code"]
    assert first != second
    revoked = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=keys.manager).json()
    assert revoked["state"] == "revoked"


BAD_GRANTS = [
    ({"starts_at": "2026-12-01T09:00:00"}, 422, "invalid_request"),
    ({"ends_at": "2026-12-01T08:00:00+01:00"}, 422, "invalid_request"),
    ({"property": None}, 422, "invalid_request"),
    ({"code": "12a4"}, 422, "code_rejected"),
    ({"code": "1234"}, 422, "code_rejected"),
    ({"code_length": 12}, 422, "invalid_request"),
    ({"locks": ["no-such-lock"], "property": None}, 404, "not_found"),
    (
        {"starts_at": "2026-11-01T09:00:00Z", "ends_at": "2026-11-02T09:00:00Z"},
        422,
        "invalid_window",
    ),
]


@pytest.mark.parametrize(("extra", "status", "error"), BAD_GRANTS)
def test_bad_manual_grants_are_refused_and_change_nothing(
    client, keys, flat, runtime, extra, status, error
):
    before = database_dump(runtime)
    answer = client.post("/api/v1/grants", json=staff_grant(flat, **extra), headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_a_chosen_code_already_in_use_is_a_conflict(client, keys, flat, runtime):
    client.post("/api/v1/grants", json=staff_grant(flat, code="482913"), headers=keys.owner)
    before = database_dump(runtime)
    answer = client.post(
        "/api/v1/grants", json=staff_grant(flat, code="482913"), headers=keys.owner
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "code_clash"
    assert "482913" not in answer.text
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reservations",
        "/api/v1/grants",
        "/api/v1/events",
        "/api/v1/alerts",
        "/api/v1/deliveries",
        "/api/v1/pushes",
        "/api/v1/messages",
    ],
)
def test_listings_refuse_offsets_no_database_can_hold(client, keys, path):
    answer = client.get(f"{path}?offset={2**63}", headers=keys.owner)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "offset"


def test_arrival_notices_and_the_no_show_hour_are_a_propertys_settings(client, keys, flat, runtime):
    assert (flat["arrival_notices"], flat["no_show_time"]) == (True, "23:00:00")
    changed = client.patch(
        f"/api/v1/properties/{flat['id']}",
        json={"arrival_notices": False, "no_show_time": "21:30"},
        headers=keys.owner,
    ).json()
    assert (changed["arrival_notices"], changed["no_show_time"]) == (False, "21:30:00")
    before = database_dump(runtime)
    for bad in ({"arrival_notices": None}, {"no_show_time": "25:00"}, {"no_show_time": None}):
        answer = client.patch(f"/api/v1/properties/{flat['id']}", json=bad, headers=keys.owner)
        assert answer.status_code == 422, bad
    assert database_dump(runtime) == before
