"""/provider-accounts: owners connect Seam, import its devices; a booking code reaches the fake."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from doorcode.sync.reconciler import Reconciler
from tests.api.conftest import database_dump

ACCOUNTS = "/api/v1/provider-accounts"
KEY_SHOWN_NEVER = "seam_doorcode_test_key"


def connect(client, keys, peer, label="Workspace", headers=None):
    body = {
        "kind": "seam",
        "label": label,
        "credentials": {"api_key": peer.api_key},
        "options": {"base_url": peer.api_url},
    }
    return client.post(ACCOUNTS, json=body, headers=headers or keys.owner)


def seed(peer):
    peer.add_device(
        "dev_front",
        "Front door",
        online=True,
        battery_level=0.55,
        supported_code_lengths=[6],
        max_active_codes_supported=30,
        code_constraints=[{"constraint_type": "no_zeros"}],
    )
    peer.add_device("dev_back", "Back door", supported_code_lengths=[4, 6])


def test_an_owner_connects_and_nobody_sees_the_key_again(client, keys, seam_peer):
    answer = connect(client, keys, seam_peer)
    assert answer.status_code == 201, answer.text
    assert KEY_SHOWN_NEVER not in answer.text
    listed = client.get(ACCOUNTS, headers=keys.viewer)
    assert [a["credential_names"] for a in listed.json()] == [["api_key"]]
    assert KEY_SHOWN_NEVER not in listed.text
    assert client.get(ACCOUNTS, headers=keys.stranger).json() == []


def test_a_manager_cannot_connect_or_remove_and_nothing_changes(client, keys, seam_peer, runtime):
    before = database_dump(runtime)
    assert connect(client, keys, seam_peer, headers=keys.manager).status_code == 403
    assert database_dump(runtime) == before
    connect(client, keys, seam_peer)
    assert client.delete(f"{ACCOUNTS}/Workspace", headers=keys.manager).status_code == 403
    assert client.delete(f"{ACCOUNTS}/Workspace", headers=keys.stranger).status_code == 404
    assert client.delete(f"{ACCOUNTS}/Workspace", headers=keys.owner).status_code == 204


def test_a_bad_connection_is_a_422_with_why(client, keys, runtime):
    before = database_dump(runtime)
    body = {"kind": "seam", "label": "W", "credentials": {}}
    answer = client.post(ACCOUNTS, json=body, headers=keys.owner)
    assert answer.status_code == 422
    assert "api_key" in answer.json()["message"]
    assert database_dump(runtime) == before


def test_import_brings_devices_with_their_capabilities_and_again_changes_nothing(
    client, keys, seam_peer, runtime
):
    seed(seam_peer)
    connect(client, keys, seam_peer)
    first = client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.manager).json()
    assert sorted(first["added"]) == ["Back door", "Front door"]
    front = client.get("/api/v1/locks/dev_front", headers=keys.viewer).json()
    assert front["provider"] == "seam"
    assert front["capabilities"]["code_lengths"] == [6]
    assert front["capabilities"]["max_codes"] == 30
    assert front["capabilities"]["constraints"]["no_zeros"] is True
    assert (front["health"]["online"], front["health"]["battery_percent"]) == (True, 55)
    before = database_dump(runtime)
    again = client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.manager).json()
    assert (again["added"], again["changed"], sorted(again["unchanged"])) == (
        [],
        [],
        ["Back door", "Front door"],
    )
    after = database_dump(runtime)
    assert {t: rows for t, rows in after.items() if t != "provider_accounts"} == {
        t: rows for t, rows in before.items() if t != "provider_accounts"
    }


def test_a_device_gone_at_seam_raises_an_alert_instead_of_failing_forever(client, keys, seam_peer):
    seed(seam_peer)
    connect(client, keys, seam_peer)
    client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.owner)
    seam_peer.control("/delete_device", {"device_id": "dev_back"})
    report = client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.owner).json()
    assert report["gone"] == ["Back door"]
    alerts = client.get("/api/v1/alerts", headers=keys.viewer).json()
    assert [a["kind"] for a in alerts] == ["LockDeviceGone"]


def test_a_refused_key_at_import_is_a_502_and_stops_the_account(client, keys, seam_peer):
    body = {
        "kind": "seam",
        "label": "Old",
        "credentials": {"api_key": "seam_revoked"},
        "options": {"base_url": seam_peer.api_url},
    }
    client.post(ACCOUNTS, json=body, headers=keys.owner)
    answer = client.post(f"{ACCOUNTS}/Old/import", headers=keys.owner)
    assert answer.status_code == 502
    assert "refused" in answer.json()["message"]
    [account] = client.get(ACCOUNTS, headers=keys.owner).json()
    assert account["refused"]
    assert client.post(f"{ACCOUNTS}/Old/import", headers=keys.owner).status_code == 422


def test_a_booking_code_reaches_the_seam_lock_scheduled_and_is_accepted_then_set(
    client, keys, seam_peer, runtime, clock
):
    seed(seam_peer)
    connect(client, keys, seam_peer)
    client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.owner)
    client.post(
        "/api/v1/properties",
        json={"name": "Flat 1", "time_zone": "UTC", "external_id": "f1", "code_length": 6},
        headers=keys.owner,
    ).raise_for_status()
    client.put("/api/v1/properties/f1/locks/dev_front", headers=keys.owner).raise_for_status()
    check_in = (clock() + timedelta(days=1)).date()
    client.post(
        "/api/v1/reservations",
        json={
            "property": "f1",
            "external_id": "B1",
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
            "guest": {"name": "Ada"},
        },
        headers=keys.owner,
    ).raise_for_status()
    reconciler = Reconciler.from_runtime(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    [code] = [c for c in seam_peer.codes() if c["device_id"] == "dev_front"]
    assert code["type"] == "time_bound"
    assert code["name"].startswith("doorcode grt_")
    codes = client.get("/api/v1/locks/dev_front/codes", headers=keys.viewer).json()["codes"]
    assert [c["status"] for c in codes] == ["accepted"]
    seam_peer.confirm_all()
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    codes = client.get("/api/v1/locks/dev_front/codes", headers=keys.viewer).json()["codes"]
    assert [c["status"] for c in codes] == ["set"]


def test_a_sync_refreshes_health_at_most_hourly(client, keys, seam_peer, runtime, clock):
    seed(seam_peer)
    connect(client, keys, seam_peer)
    client.post(f"{ACCOUNTS}/Workspace/import", headers=keys.owner)
    seam_peer.control("/update_device", {"device_id": "dev_front", "properties": {"online": False}})
    reconciler = Reconciler.from_runtime(runtime)
    clock.advance(minutes=30)
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    front = client.get("/api/v1/locks/dev_front", headers=keys.viewer).json()
    assert front["health"]["online"] is True  # checked at import, half an hour ago
    clock.advance(minutes=31)
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    front = client.get("/api/v1/locks/dev_front", headers=keys.viewer).json()
    assert (front["health"]["online"], front["health"]["battery_percent"]) == (False, 55)
