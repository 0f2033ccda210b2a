"""A property's turnover code (the cleaner's code from check-out to the next check-in) is a
setting of the REST API, as it is of the dashboard: set, read back, turned off, refused when
out of range."""

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


def staff_windows(client, keys):
    grants = client.get("/api/v1/grants?kind=staff&include_revoked=false", headers=keys.owner)
    return [(g["holder"], g["starts_at"], g["ends_at"]) for g in grants.json()]


def book(client, keys, flat, external_id, check_in, check_out):
    booking = {
        "external_id": external_id,
        "property": flat["id"],
        "check_in": check_in,
        "check_out": check_out,
    }
    answer = client.post("/api/v1/reservations", json=booking, headers=keys.owner)
    assert answer.status_code in (200, 201), answer.text


def test_a_property_starts_without_turnover_codes(client, keys, flat):
    assert (flat["turnover_holder"], flat["turnover_max_hours"]) == ("", 24)
    book(client, keys, flat, "A", "2026-11-24", "2026-11-26")
    assert staff_windows(client, keys) == []


def test_naming_a_holder_gives_them_a_code_between_stays_capped(client, keys, flat):
    book(client, keys, flat, "A", "2026-11-24", "2026-11-26")
    book(client, keys, flat, "B", "2026-11-27", "2026-11-29")
    changed = client.patch(
        f"/api/v1/properties/{flat['id']}",
        json={"turnover_holder": "  Marta (cleaner) ", "turnover_max_hours": 6},
        headers=keys.owner,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["turnover_holder"], changed.json()["turnover_max_hours"]) == (
        "Marta (cleaner)",
        6,
    )
    # Paris is UTC+1 in November: check-out 11:00 is 10:00 UTC, six hours at most.
    assert staff_windows(client, keys) == [
        ("Marta (cleaner)", "2026-11-26T10:00:00Z", "2026-11-26T16:00:00Z"),
        ("Marta (cleaner)", "2026-11-29T10:00:00Z", "2026-11-29T16:00:00Z"),
    ]
    read = client.get(f"/api/v1/properties/{flat['id']}", headers=keys.owner).json()
    assert read["turnover_holder"] == "Marta (cleaner)"


def test_clearing_the_holder_revokes_the_turnover_codes(client, keys, flat):
    client.patch(
        f"/api/v1/properties/{flat['id']}", json={"turnover_holder": "Marta"}, headers=keys.owner
    )
    book(client, keys, flat, "A", "2026-11-24", "2026-11-26")
    assert len(staff_windows(client, keys)) == 1
    cleared = client.patch(
        f"/api/v1/properties/{flat['id']}", json={"turnover_holder": None}, headers=keys.owner
    )
    assert cleared.json()["turnover_holder"] == ""
    assert staff_windows(client, keys) == []


def test_a_new_property_can_have_its_turnover_from_the_start(client, keys):
    body = {"name": "Loft", "time_zone": "UTC", "turnover_holder": "Rui", "turnover_max_hours": 8}
    created = client.post("/api/v1/properties", json=body, headers=keys.owner)
    assert created.status_code == 201, created.text
    assert (created.json()["turnover_holder"], created.json()["turnover_max_hours"]) == ("Rui", 8)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"turnover_max_hours": 0}, "turnover_max_hours"),
        ({"turnover_max_hours": 14 * 24 + 1}, "turnover_max_hours"),
        ({"turnover_max_hours": None}, "turnover_max_hours"),
        ({"turnover_max_hours": "a day"}, "turnover_max_hours"),
        ({"turnover_holder": "x" * 201}, "turnover_holder"),
    ],
)
def test_bad_turnover_settings_are_refused_naming_the_field(
    client, keys, flat, runtime, change, field
):
    before = database_dump(runtime)
    answer = client.patch(f"/api/v1/properties/{flat['id']}", json=change, headers=keys.owner)
    assert answer.status_code == 422, answer.text
    assert [problem["field"] for problem in answer.json()["fields"]] == [field]
    assert database_dump(runtime) == before


def test_a_viewer_cannot_give_anyone_a_turnover_code(client, keys, flat, runtime):
    before = database_dump(runtime)
    answer = client.patch(
        f"/api/v1/properties/{flat['id']}", json={"turnover_holder": "Eve"}, headers=keys.viewer
    )
    assert answer.status_code == 403
    assert database_dump(runtime) == before
