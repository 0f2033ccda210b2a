"""Keypad openings become access events: stored once, shown by the API, the CLI and the stay."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from doorcode.api.app import create_app
from doorcode.cli.main import app as cli_app
from doorcode.locks.access_events import AccessEvent, AccessMethod, AccessOutcome
from doorcode.services.access_events import AccessPolicy, ingest_access_events
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from doorcode.store.models import AccessEventRow, Event, HostNotice
from tests.access.conftest import at_local
from tests.conftest import TEST_KEY


def api(stay):
    key = create_api_key(stay.runtime.uow(), stay.owner, "test", Role.OWNER).secret
    client = TestClient(create_app(stay.runtime))
    return client, {"Authorization": f"Bearer {key}"}


def rows(runtime, model=AccessEventRow):
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(model)))


def test_an_opening_at_the_keypad_is_in_the_lock_log_with_whose_code_it_was(stay, clock):
    clock.now = at_local(clock().date(), 15, 42)
    assert stay.cloud.enter(stay.door.external_id, stay.code).opened
    assert not stay.cloud.enter(stay.door.external_id, "999999").opened
    assert stay.poll().stored == 2
    client, headers = api(stay)
    with client:
        found = client.get(f"/api/v1/locks/{stay.door.name}/events", headers=headers).json()
        refused = client.get(
            f"/api/v1/locks/{stay.door.id}/events?outcome=refused", headers=headers
        ).json()
        of_stay = client.get(
            f"/api/v1/reservations/{stay.reservation.id}/events", headers=headers
        ).json()
    assert [(e["outcome"], e["reason"], e["method"]) for e in found] == [
        ("refused", "unknown_code", "keypad"),
        ("opened", None, "keypad"),
    ]
    assert found[1]["grant_id"] == stay.grant_id
    assert found[1]["reservation_id"] == stay.reservation.id
    assert found[1]["holder"] == "Ada Lovelace"
    assert [e["outcome"] for e in refused] == ["refused"]
    assert [e["outcome"] for e in of_stay] == ["opened"]


def test_polling_again_and_replaying_the_same_events_store_nothing_new(stay, clock):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    stay.poll()
    page = stay.cloud.entries_after(stay.door.external_id, None)
    policy = AccessPolicy()
    again = ingest_access_events(stay.runtime.uow(), "virtual", page.events, policy)
    assert (again.stored, again.repeated) == (0, 1)
    assert len(rows(stay.runtime)) == 1
    assert len([n for n in rows(stay.runtime, HostNotice) if n.kind == "guest_arrived"]) == 1


def test_the_first_opening_marks_the_stay_arrived_and_tells_the_host_on_the_property_clock(
    stay, clock
):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    clock.advance(minutes=3)
    stay.cloud.enter(stay.street.external_id, stay.code)
    stay.poll()
    arrived = [e for e in rows(stay.runtime, Event) if e.kind == "GuestArrived"]
    assert len(arrived) == 1
    assert arrived[0].occurred_at == at_local(clock().date(), 15, 42)
    notices = [n for n in rows(stay.runtime, HostNotice) if n.kind == "guest_arrived"]
    assert [n.channel for n in notices] == ["console"] or {n.channel for n in notices} >= {"email"}
    assert notices[0].text.startswith("Ada Lovelace opened Flat 1A door at 15:42.")


def test_a_property_with_arrival_notices_off_marks_the_stay_but_tells_no_one(stay, clock):
    with stay.runtime.uow() as uow:
        uow.properties.get(stay.owner.organisation_id, stay.prop.id).arrival_notices = False
        uow.commit()
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    assert [e.kind for e in rows(stay.runtime, Event) if e.kind == "GuestArrived"]
    assert not [n for n in rows(stay.runtime, HostNotice) if n.kind == "guest_arrived"]


def test_events_for_a_device_doorcode_has_no_lock_for_are_left_out(stay, clock):
    event = AccessEvent("x-1", "not-ours", clock(), AccessOutcome.OPENED, AccessMethod.KEYPAD, None)
    report = ingest_access_events(stay.runtime.uow(), "virtual", [event], AccessPolicy())
    assert (report.stored, report.unknown_device) == (0, 1)
    assert rows(stay.runtime) == []


def test_bad_filters_get_a_reason_and_other_organisations_see_nothing(stay, clock):
    from tests.builders import make_owner

    client, headers = api(stay)
    stranger = make_owner(stay.runtime, "other")
    theirs = create_api_key(stay.runtime.uow(), stranger, "t", Role.OWNER).secret
    with client:
        bad = client.get(f"/api/v1/locks/{stay.door.id}/events?outcome=maybe", headers=headers)
        naive = client.get(
            f"/api/v1/locks/{stay.door.id}/events?since=2026-01-01T00:00", headers=headers
        )
        backwards = client.get(
            f"/api/v1/locks/{stay.door.id}/events?since=2026-02-01T00:00Z&until=2026-01-01T00:00Z",
            headers=headers,
        )
        other = client.get(
            f"/api/v1/locks/{stay.door.id}/events",
            headers={"Authorization": f"Bearer {theirs}"},
        )
        missing = client.get("/api/v1/reservations/res_nope/events", headers=headers)
        extreme = client.get(
            f"/api/v1/locks/{stay.door.id}/events?since=0001-01-01T00:00:00%2B01:00",
            headers=headers,
        )
        number = client.get(f"/api/v1/locks/{stay.door.id}/events?until=0.5", headers=headers)
    assert (extreme.status_code, number.status_code) == (422, 422)
    assert bad.status_code == 422
    assert "outcome" in bad.text
    assert naive.status_code == 422
    assert backwards.status_code == 422
    assert "since must be before until" in backwards.text
    assert other.status_code == 404
    assert missing.status_code == 404


def test_doorcode_lock_log_lists_the_openings_without_a_code(stay, clock, tmp_path):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    runner = CliRunner()
    env = cli_env(stay, tmp_path)
    result = runner.invoke(cli_app, ["lock", "log", "Flat 1A door"], env=env)
    assert result.exit_code == 0, result.output
    assert "opened" in result.output
    assert "Ada Lovelace" in result.output
    assert "15:42" in result.output
    assert stay.code not in result.output
    bad = runner.invoke(cli_app, ["lock", "log", "Flat 1A door", "--outcome", "maybe"], env=env)
    assert bad.exit_code != 0
    assert "outcome" in bad.output
    nothing = runner.invoke(cli_app, ["lock", "log", "No such door"], env=env)
    assert nothing.exit_code != 0


def cli_env(stay, tmp_path):
    return {
        "DOORCODE_DATABASE_URL": stay.runtime.settings.database_url,
        "DOORCODE_DATA_DIR": str(tmp_path),
        "DOORCODE_ORGANISATION": "acme",
        "DOORCODE_SECRET_KEY": TEST_KEY,
    }


def test_retention_purges_old_events_by_itself(stay, clock):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    clock.advance(days=395)
    stay.poll()
    assert len(rows(stay.runtime)) == 1
    clock.advance(days=2)
    assert stay.poll().purged >= 1
    assert rows(stay.runtime) == []
    with stay.runtime.uow() as uow:
        assert uow.session.scalar(select(func.count(AccessEventRow.id))) == 0
    assert timedelta(days=396) == AccessPolicy().retention


def test_serve_reads_the_locks_by_itself(stay, clock):
    import time

    from doorcode.background import background_jobs

    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.runtime.settings.access_poll_seconds = 1
    key = create_api_key(stay.runtime.uow(), stay.owner, "t", Role.VIEWER).secret
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(stay.runtime, background_jobs(stay.runtime))) as client:
        deadline = time.monotonic() + 10
        while not client.get(f"/api/v1/locks/{stay.door.id}/events", headers=headers).json():
            assert time.monotonic() < deadline, "serve's access pass stored nothing in 10 s"
            time.sleep(0.05)


def test_one_lock_failing_in_any_way_costs_only_that_lock_and_never_logs_its_text(
    stay, clock, caplog, monkeypatch
):
    """An adapter bug at the street door (a KeyError quoting a PIN, say) must not stop the
    flat door's openings from being read, nor put the PIN in the log."""
    clock.now = at_local(clock().date(), 15, 42)
    assert stay.cloud.enter(stay.door.external_id, stay.code).opened
    provider = stay.runtime.providers.shared("virtual")
    asked = provider.access_events

    async def broken_at_the_street_door(device_id, cursor):
        if device_id == stay.street.external_id:
            raise KeyError(f"pin {stay.code}")
        return await asked(device_id, cursor)

    monkeypatch.setattr(provider, "access_events", broken_at_the_street_door)
    with caplog.at_level("DEBUG"):
        report = stay.poll()
    assert (report.stored, report.failed) == (1, 1)
    assert "KeyError" in caplog.text
    assert stay.code not in caplog.text
