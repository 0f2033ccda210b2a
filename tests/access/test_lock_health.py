"""Lock health: battery and link from the back-end, alerts naming the next arrival, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from doorcode.store.models import Alert, LockHealthSample


@pytest.fixture(autouse=True)
def every_lock_every_pass(runtime):
    """These tests are about what a lock reports, not how often a quiet one is asked."""
    runtime.settings.access_quiet_poll_seconds = 0


def alerts(runtime, kind, *, open_only=True):
    with runtime.uow() as uow:
        query = select(Alert).where(Alert.kind == kind)
        if open_only:
            query = query.where(Alert.cleared_at.is_(None))
        return list(uow.session.scalars(query))


def samples(runtime, lock):
    with runtime.uow() as uow:
        query = select(LockHealthSample).where(LockHealthSample.lock_id == lock.id)
        return list(uow.session.scalars(query.order_by(LockHealthSample.observed_at)))


def test_a_low_battery_is_an_alert_naming_the_next_arrival_and_clears_when_changed(stay, clock):
    stay.cloud.set_battery(stay.door.external_id, 12)
    stay.poll()
    [alert] = alerts(stay.runtime, "LockBatteryLow")
    assert (alert.subject_type, alert.subject_id) == ("lock", stay.door.id)
    assert alert.message == (
        "Flat 1A door: battery 12 %; next guest arrives today 15:00 (Ada Lovelace, Flat 1A)"
    )
    clock.advance(minutes=5)
    stay.cloud.set_battery(stay.door.external_id, 100)
    stay.poll()
    assert alerts(stay.runtime, "LockBatteryLow") == []
    assert len(alerts(stay.runtime, "LockBatteryLow", open_only=False)) == 1


def test_the_battery_threshold_is_a_setting(stay, clock):
    stay.runtime.settings.battery_alert_percent = 10
    stay.cloud.set_battery(stay.door.external_id, 12)
    stay.poll()
    assert alerts(stay.runtime, "LockBatteryLow") == []


def test_an_offline_lock_is_an_alert_with_its_last_contact_until_it_answers_again(stay, clock):
    stay.cloud.go_offline(stay.door.external_id, clock() + timedelta(hours=2))
    clock.advance(minutes=30)
    stay.poll()
    [alert] = alerts(stay.runtime, "LockOffline")
    assert alert.message.startswith("Flat 1A door: offline, last contact 30 min ago; next guest")
    clock.advance(hours=2)
    stay.poll()
    assert alerts(stay.runtime, "LockOffline") == []
    assert [s.online for s in samples(stay.runtime, stay.door)] == [False, True]


def test_health_history_keeps_a_reading_per_change_or_per_hour(stay, clock):
    for percent in (90, 90, 90, 80):
        stay.cloud.set_battery(stay.door.external_id, percent)
        stay.poll()
        clock.advance(minutes=10)
    clock.advance(hours=1)
    stay.poll()
    assert [s.battery_percent for s in samples(stay.runtime, stay.door)] == [90, 80, 80]


def test_a_battery_level_outside_0_to_100_is_refused_by_the_virtual_lock(stay):
    import pytest

    with pytest.raises(ValueError, match="0 to 100"):
        stay.cloud.set_battery(stay.door.external_id, 120)


def test_the_api_gives_a_locks_health_history_oldest_first(stay, clock):
    from fastapi.testclient import TestClient

    from doorcode.api.app import create_app
    from doorcode.services.api_keys import create_api_key
    from doorcode.services.caller import Role

    for percent in (80, 60):
        stay.cloud.set_battery(stay.door.external_id, percent)
        stay.poll()
        clock.advance(days=8)
    key = create_api_key(stay.runtime.uow(), stay.owner, "t", Role.VIEWER).secret
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(stay.runtime)) as client:
        recent = client.get(f"/api/v1/locks/{stay.door.name}/health?days=10", headers=headers)
        both = client.get(f"/api/v1/locks/{stay.door.id}/health", headers=headers)
        bad = client.get(f"/api/v1/locks/{stay.door.id}/health?days=0", headers=headers)
        missing = client.get("/api/v1/locks/nope/health", headers=headers)
    assert [r["battery_percent"] for r in recent.json()] == [60]
    assert [(r["online"], r["battery_percent"]) for r in both.json()] == [(True, 80), (True, 60)]
    assert bad.status_code == 422
    assert missing.status_code == 404
