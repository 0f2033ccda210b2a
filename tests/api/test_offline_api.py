"""Offline codes over the API: the happy path and every bad input, nothing changed by errors."""

import pytest

from tests.api.conftest import database_dump


@pytest.fixture
def group(client, keys):
    lock = client.post(
        "/api/v1/locks",
        json={"name": "cabin", "capabilities": {"online": False, "offline_codes": True}},
        headers=keys.owner,
    ).json()
    body = {"name": "cabin", "locks": [lock["id"]]}
    return client.post("/api/v1/offline/key-groups", json=body, headers=keys.owner).json()


WINDOW = {"starts_at": "2026-12-01T15:00:00+00:00", "ends_at": "2026-12-04T11:00:00+00:00"}


def test_issue_check_and_block_an_offline_code(client, keys, group, runtime):
    issued = client.post(
        "/api/v1/offline/codes", json={"key_group": "cabin", **WINDOW}, headers=keys.manager
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["issued"] == {
        "starts_at": "2026-12-01T15:00:00Z",
        "ends_at": "2026-12-04T11:00:00Z",
    }
    check = {"key_group": "cabin", "code": body["code"], "at": "2026-12-02T10:00:00Z"}
    found = client.post("/api/v1/offline/codes/check", json=check, headers=keys.manager).json()
    assert (found["valid"], found["opens_at"], found["grant_id"]) == (True, True, body["grant_id"])
    block = {"key_group": "cabin", "code": body["code"]}
    before = database_dump(runtime)
    refused = client.post("/api/v1/offline/codes/block", json=block, headers=keys.manager)
    assert refused.status_code == 403  # the sequence holds the programming code: owners only
    assert database_dump(runtime) == before
    grant = client.get(f"/api/v1/grants/{body['grant_id']}", headers=keys.manager).json()
    assert grant["state"] == "scheduled"  # not revoked: the refusal left the grant alone
    blocked = client.post("/api/v1/offline/codes/block", json=block, headers=keys.owner)
    assert blocked.json()["steps"][2:] == ["128", "Enter", body["code"], "Enter"]
    assert blocked.json()["keys"].endswith(f"#128#{body['code']}#")
    grant = client.get(f"/api/v1/grants/{body['grant_id']}", headers=keys.manager).json()
    assert grant["state"] == "revoked"


def test_only_owners_export_and_only_once(client, keys, group, runtime):
    path = "/api/v1/offline/key-groups/cabin/export"
    before = database_dump(runtime)
    assert client.post(path, headers=keys.manager).status_code == 403
    assert database_dump(runtime) == before  # the manager's try did not spend the one export
    exported = client.post(path, headers=keys.owner).json()
    assert len(exported["key_hex"]) == 64
    exported_once = database_dump(runtime)
    again = client.post(path, headers=keys.owner)
    assert again.status_code == 422
    assert exported["key_hex"] not in again.text
    assert database_dump(runtime) == exported_once


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        (
            "/api/v1/offline/codes",
            {
                "key_group": "cabin",
                "starts_at": "2026-12-01T15:00:00",
                "ends_at": "2026-12-04T11:00:00+00:00",
            },
            422,
            "invalid_request",
        ),
        (
            "/api/v1/offline/codes",
            {
                "key_group": "cabin",
                "starts_at": "2026-12-04T15:00:00Z",
                "ends_at": "2026-12-01T11:00:00Z",
            },
            422,
            "invalid_request",
        ),
        (
            "/api/v1/offline/codes",
            {
                "key_group": "cabin",
                "starts_at": "2026-12-01T15:00:00Z",
                "ends_at": "2028-12-01T11:00:00Z",
            },
            422,
            "offline_window_unsupported",
        ),
        ("/api/v1/offline/codes", {"key_group": "nope", **WINDOW}, 404, "not_found"),
        (
            "/api/v1/offline/codes/block",
            {"key_group": "cabin", "code": "12ab567890"},
            422,
            "invalid_request",
        ),
        ("/api/v1/offline/key-groups", {"name": "x", "locks": []}, 422, "invalid_request"),
        ("/api/v1/offline/key-groups", {"name": "x", "locks": ["cabin"]}, 422, "invalid_request"),
    ],
)
def test_bad_offline_requests_are_refused_and_change_nothing(
    client, keys, group, runtime, path, body, status, error
):
    before = database_dump(runtime)
    answer = client.post(path, json=body, headers=keys.owner)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before


def test_another_organisation_cannot_see_or_use_the_group(client, keys, group):
    assert client.get("/api/v1/offline/key-groups", headers=keys.stranger).json() == []
    answer = client.post(
        "/api/v1/offline/codes", json={"key_group": group["id"], **WINDOW}, headers=keys.stranger
    )
    assert answer.status_code == 404


def test_an_owner_rotates_the_key_revoking_codes_and_allowing_a_new_export(
    client, keys, group, runtime
):
    issued = client.post(
        "/api/v1/offline/codes", json={"key_group": "cabin", **WINDOW}, headers=keys.manager
    ).json()
    export = "/api/v1/offline/key-groups/cabin/export"
    old_key = client.post(export, headers=keys.owner).json()["key_hex"]
    rotated = client.post("/api/v1/offline/key-groups/cabin/rotate", headers=keys.owner)
    assert rotated.status_code == 200
    body = rotated.json()
    assert (body["id"], body["name"], body["lock_ids"]) == (
        group["id"],
        "cabin",
        group["lock_ids"],
    )
    assert body["key_version"] == group["key_version"] + 1
    assert body["key_exported"] is False
    assert "key_hex" not in body  # the new key is only handed out by an export
    assert old_key not in rotated.text
    grant = client.get(f"/api/v1/grants/{issued['grant_id']}", headers=keys.manager).json()
    assert grant["state"] == "revoked"
    new = client.post(export, headers=keys.owner).json()
    assert new["key_version"] == body["key_version"]
    assert new["key_hex"] != old_key
    events = client.get("/api/v1/events?kind=KeyGroupRotated", headers=keys.owner).json()
    assert len(events) == 1


@pytest.mark.parametrize(
    ("who", "reference", "status", "error"),
    [
        ("manager", "cabin", 403, "permission_denied"),  # a rotation revokes codes: owners only
        ("owner", "nope", 404, "not_found"),
        ("stranger", "cabin", 404, "not_found"),  # another organisation's, by name
        ("stranger", "id", 404, "not_found"),  # and by id
    ],
)
def test_a_refused_rotation_changes_nothing(
    client, keys, group, runtime, who, reference, status, error
):
    reference = group["id"] if reference == "id" else reference
    before = database_dump(runtime)
    answer = client.post(
        f"/api/v1/offline/key-groups/{reference}/rotate", headers=getattr(keys, who)
    )
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert database_dump(runtime) == before
    (listed,) = client.get("/api/v1/offline/key-groups", headers=keys.owner).json()
    assert listed["key_version"] == group["key_version"]
