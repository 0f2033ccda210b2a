"""Lock sync over the API: per-grant lock status, codes on a lock, alerts, the virtual keypad."""

import asyncio

import pytest

from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler
from tests.api.conftest import database_dump


def reconcile(runtime):
    install_virtual_locks(runtime)
    reconciler = Reconciler.from_runtime(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))


@pytest.fixture
def booked(client, keys, runtime):
    prop = client.post(
        "/api/v1/properties",
        json={"name": "Flat", "time_zone": "UTC", "external_id": "f1"},
        headers=keys.owner,
    ).json()
    lock = client.post(
        "/api/v1/locks",
        json={"name": "Tiny door", "capabilities": {"max_codes": 1}},
        headers=keys.owner,
    ).json()
    client.put(f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner)
    stays = [("B1", "2026-11-21", "2026-11-23"), ("B2", "2026-11-23", "2026-11-25")]
    grants = [
        client.post(
            "/api/v1/reservations",
            json={"external_id": ref, "property": "f1", "check_in": a, "check_out": b},
            headers=keys.owner,
        ).json()["grant_id"]
        for ref, a, b in stays
    ]
    return lock, grants


def test_a_grant_shows_where_its_code_stands_on_each_lock(client, keys, runtime, booked):
    lock, (current, _) = booked
    before = client.get(f"/api/v1/grants/{current}", headers=keys.viewer).json()
    assert [(c["lock_id"], c["status"]) for c in before["lock_codes"]] == [(lock["id"], "pending")]
    reconcile(runtime)
    after = client.get(f"/api/v1/grants/{current}", headers=keys.viewer).json()
    assert after["lock_codes"][0]["status"] == "set"


def test_a_locks_codes_say_desired_and_actual_but_never_the_code(client, keys, runtime, booked):
    lock, (current, following) = booked
    reconcile(runtime)
    code = client.get(f"/api/v1/grants/{current}/code", headers=keys.owner).json()["code"]
    answer = client.get(f"/api/v1/locks/{lock['id']}/codes", headers=keys.viewer)
    assert answer.status_code == 200
    assert code not in answer.text
    codes = {c["grant_id"]: c for c in answer.json()["codes"]}
    assert (codes[current]["desired"], codes[current]["actual"]) == ("present", "present")
    assert codes[following]["status"] == "waiting_for_space"
    assert answer.json()["lock"]["sync"]["error"] is None


def test_a_guest_who_would_arrive_without_a_code_raises_an_alert(client, keys, runtime, booked):
    _, (_, following) = booked
    reconcile(runtime)
    alerts = client.get("/api/v1/alerts", headers=keys.viewer).json()
    assert [(a["kind"], a["subject_id"]) for a in alerts] == [("GrantCodeMissing", following)]
    assert client.get("/api/v1/alerts", headers=keys.stranger).json() == []


def test_the_virtual_keypad_opens_for_the_current_guest(client, keys, runtime, booked):
    lock, (current, _) = booked
    reconcile(runtime)
    code = client.get(f"/api/v1/grants/{current}/code", headers=keys.owner).json()["code"]
    typed = client.post(
        f"/api/v1/locks/{lock['id']}/keypad", json={"code": code}, headers=keys.manager
    )
    assert typed.json() == {"opened": True, "reason": "valid code", "grant_id": current}
    early = client.post(
        f"/api/v1/locks/{lock['id']}/keypad",
        json={"code": code, "at": "2026-11-21T14:00:00Z"},
        headers=keys.manager,
    ).json()
    assert not early["opened"]


@pytest.mark.parametrize(
    ("method", "path", "body", "who", "status"),
    [
        ("get", "/api/v1/locks/nope/codes", None, "owner", 404),
        ("get", "/api/v1/locks/{lock}/codes", None, "stranger", 404),
        ("get", "/api/v1/alerts?limit=0", None, "owner", 422),
        ("post", "/api/v1/locks/{lock}/keypad", {"code": "12 34"}, "owner", 422),
        (
            "post",
            "/api/v1/locks/{lock}/keypad",
            {"code": "1234", "at": "2026-11-22T14:00"},
            "owner",
            422,
        ),
        ("post", "/api/v1/locks/{lock}/keypad", {"code": "1234", "extra": 1}, "owner", 422),
        ("post", "/api/v1/locks/{lock}/keypad", {"code": "1234"}, "viewer", 403),
        ("post", "/api/v1/locks/nope/keypad", {"code": "1234"}, "owner", 404),
        ("post", "/api/v1/locks/{lock}/keypad", {"code": "1234"}, "stranger", 404),
        (
            "post",
            "/api/v1/properties",
            {"name": "X", "time_zone": "UTC", "native_lead_minutes": -1},
            "owner",
            422,
        ),
        ("patch", "/api/v1/properties/f1", {"unscheduled_lead_minutes": 50000}, "owner", 422),
        ("patch", "/api/v1/properties/f1", {"native_lead_minutes": 60}, "viewer", 403),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    client, keys, runtime, booked, method, path, body, who, status
):
    lock, _ = booked
    before = database_dump(runtime)
    kwargs = {"json": body} if body is not None else {}
    answer = getattr(client, method)(
        path.format(lock=lock["id"]), headers=getattr(keys, who), **kwargs
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["message"]
    assert database_dump(runtime) == before


def test_a_keypad_on_another_kind_of_lock_is_refused(client, keys):
    client.post(
        "/api/v1/provider-accounts",
        json={"kind": "seam", "label": "Workspace", "credentials": {"api_key": "seam_x"}},
        headers=keys.owner,
    ).raise_for_status()
    lock = client.post(
        "/api/v1/locks", json={"name": "Real door", "provider": "seam"}, headers=keys.owner
    ).json()
    answer = client.post(
        f"/api/v1/locks/{lock['id']}/keypad", json={"code": "1234"}, headers=keys.owner
    )
    assert answer.status_code == 422
    assert "only virtual locks" in answer.json()["message"]


def test_lead_times_are_part_of_a_property(client, keys, booked):
    changed = client.patch(
        "/api/v1/properties/f1", json={"native_lead_minutes": 1440}, headers=keys.owner
    ).json()
    assert (changed["native_lead_minutes"], changed["unscheduled_lead_minutes"]) == (1440, 60)
