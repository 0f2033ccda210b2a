"""/api/v1/schedules: a recurring staff code over HTTP, created, changed and revoked as one."""

import pytest

from tests.api.conftest import database_dump


@pytest.fixture
def flat(client, keys):
    """A flat in Paris with one door."""
    prop = client.post(
        "/api/v1/properties", json={"name": "Flat", "time_zone": "Europe/Paris"}, headers=keys.owner
    ).json()
    lock = client.post("/api/v1/locks", json={"name": "door"}, headers=keys.owner).json()
    client.put(f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner)
    return prop


TUESDAYS = {
    "holder": "Marta (cleaner)",
    "frequency": "weekly",
    "weekdays": [1],
    "starts": "10:00",
    "ends": "14:00",
    "first_day": "2027-03-23",
    "last_day": "2027-04-06",
}


def test_a_schedule_is_created_changed_and_revoked_as_one(client, keys, flat):
    body = {**TUESDAYS, "properties": [flat["id"]]}
    made = client.post("/api/v1/schedules", json=body, headers=keys.manager)
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert schedule["summary"] == "every Tue, 10:00-14:00"
    assert len(schedule["grant_ids"]) == 3  # 23 March, 30 March (CEST in Paris), 6 April
    grant = client.get(f"/api/v1/grants/{schedule['grant_ids'][1]}", headers=keys.owner).json()
    assert grant["starts_at"].startswith("2027-03-30T08:00:00")
    changed = client.put(
        f"/api/v1/schedules/{schedule['id']}",
        json={**body, "except_days": ["2027-03-30"]},
        headers=keys.manager,
    ).json()
    assert changed["grant_ids"] == [schedule["grant_ids"][0], schedule["grant_ids"][2]]
    revoked = client.post(
        f"/api/v1/schedules/{schedule['id']}/revoke", json={"reason": "left"}, headers=keys.owner
    ).json()
    assert revoked == {"id": schedule["id"], "windows_revoked": 2}
    assert client.get(f"/api/v1/schedules/{schedule['id']}", headers=keys.owner).json()["revoked"]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"weekdays": []}, 422),
        ({"last_day": "2027-03-01"}, 422),
        ({"properties": ["nowhere"]}, 404),
        ({"frequency": "monthly"}, 422),
        ({"colour": "blue"}, 422),
    ],
)
def test_a_bad_schedule_is_refused_and_changes_nothing(
    client,
    keys,
    flat,
    runtime,
    changes,
    status,
):
    before = database_dump(runtime)
    body = {**TUESDAYS, "properties": [flat["id"]], **changes}
    answer = client.post("/api/v1/schedules", json=body, headers=keys.owner)
    assert answer.status_code == status, answer.text
    assert database_dump(runtime) == before


def test_viewers_and_strangers_cannot_touch_schedules(client, keys, flat, runtime):
    body = {**TUESDAYS, "properties": [flat["id"]]}
    assert client.post("/api/v1/schedules", json=body, headers=keys.viewer).status_code == 403
    made = client.post("/api/v1/schedules", json=body, headers=keys.owner).json()
    assert client.get(f"/api/v1/schedules/{made['id']}", headers=keys.stranger).status_code == 404
    revoke = client.post(f"/api/v1/schedules/{made['id']}/revoke", json={}, headers=keys.stranger)
    assert revoke.status_code == 404
