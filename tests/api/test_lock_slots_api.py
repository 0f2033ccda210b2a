"""/locks/{id}/slots: the range doorcode writes on a slot lock; never one that moves a guest."""

import asyncio
from datetime import timedelta

import pytest

from doorcode.locks.registry import ProviderRegistry
from doorcode.sync.reconciler import Reconciler
from tests.api.conftest import database_dump
from tests.sync.slot_lock import SlotLockProvider


@pytest.fixture
def slot_lock(client, keys, runtime):
    provider = SlotLockProvider()
    runtime.providers = ProviderRegistry([provider])
    lock = client.post(
        "/api/v1/locks",
        json={
            "name": "Gate",
            "capabilities": {"max_codes": 30, "native_scheduling": False},
        },
        headers=keys.owner,
    ).json()
    provider.add(lock["external_id"], 30)
    return lock


def slots_url(lock):
    return f"/api/v1/locks/{lock['id']}/slots"


def test_the_default_range_leaves_the_first_three_to_the_owner(client, keys, slot_lock):
    answer = client.get(slots_url(slot_lock), headers=keys.viewer)
    assert answer.status_code == 200
    assert answer.json() == {
        "lock_id": slot_lock["id"],
        "slots": "4-30",
        "chosen": False,
        "held": {},
    }


def test_an_owner_narrows_the_range_and_a_viewer_may_not(client, keys, slot_lock):
    assert (
        client.put(slots_url(slot_lock), json={"slots": "10-20"}, headers=keys.viewer).status_code
        == 403
    )
    answer = client.put(slots_url(slot_lock), json={"slots": "10-20"}, headers=keys.owner)
    assert answer.status_code == 200
    assert (answer.json()["slots"], answer.json()["chosen"]) == ("10-20", True)
    reset = client.put(slots_url(slot_lock), json={"slots": None}, headers=keys.owner)
    assert (reset.json()["slots"], reset.json()["chosen"]) == ("4-30", False)


@pytest.mark.parametrize(
    ("slots", "says"),
    [
        ("20-10", "slot range 20-10 is empty"),
        ("10-40", "Gate has 30 slots: 10-40 does not fit"),
        ("4 to 30", "slots must be written first-last"),
    ],
)
def test_a_bad_range_is_refused_with_its_reason_and_nothing_changes(
    client, keys, runtime, slot_lock, slots, says
):
    before = database_dump(runtime)
    answer = client.put(slots_url(slot_lock), json={"slots": slots}, headers=keys.owner)
    assert answer.status_code == 422
    assert says in answer.text
    assert database_dump(runtime) == before


def test_a_range_that_would_strand_a_guests_code_is_refused(
    client, keys, runtime, slot_lock, clock
):
    client.post(
        "/api/v1/properties",
        json={"name": "Flat", "time_zone": "UTC", "external_id": "f1"},
        headers=keys.owner,
    )
    client.put(f"/api/v1/properties/f1/locks/{slot_lock['id']}", headers=keys.owner)
    today = clock().date()
    grant = client.post(
        "/api/v1/reservations",
        json={
            "external_id": "B1",
            "property": "f1",
            "check_in": str(today),
            "check_out": str(today + timedelta(days=2)),
        },
        headers=keys.owner,
    ).json()["grant_id"]
    clock.advance(hours=6)
    reconciler = Reconciler.from_runtime(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    held = client.get(slots_url(slot_lock), headers=keys.owner).json()["held"]
    assert held == {"4": grant}
    before = database_dump(runtime)
    answer = client.put(slots_url(slot_lock), json={"slots": "10-20"}, headers=keys.owner)
    assert answer.status_code == 422
    assert "slot 4 of Gate" in answer.text
    assert database_dump(runtime) == before
