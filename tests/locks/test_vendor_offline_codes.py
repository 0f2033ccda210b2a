"""TTLock's offline codes reach the guest's lock code, the operator and the audit log.

A lock without a gateway cannot be programmed from TTLock's cloud; a lock whose gateway
cannot reach it answers -3036. Either way the stay gets TTLock's computed period code (whole
hours), stored with the grant's lock code as doorcode's own offline codes are, and shown with
its rules. The locks come in as an owner's would: account connected, devices imported.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from random import Random

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from doorcode.services.grants import reveal_access
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import LockCode
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures
from tests.conftest import TEST_KEY
from tests.locks.fakes import ttlock
from tests.locks.fakes.accounts import connect_and_import, registry_on
from tests.sync.helpers import event_kinds

TOMORROW = date(2026, 11, 24)
"""The test clock stands at 2026-11-23 09:00 UTC."""


def world(sqlite_url, clock, tmp_path, **traits):
    fake = ttlock.TtlockCloud(clock)
    device = fake.add_lock("Cabin door", **traits)
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(
        settings, clock=clock, rng=Random(5), migrate=False, providers=registry_on(fake)
    )
    owner = make_owner(runtime)
    connect_and_import(runtime, owner, "ttlock")
    with runtime.uow() as uow:
        lock = uow.locks.by_provider_id("ttlock", str(device))
    prop = make_property(runtime, owner, "Cabin", locks=[lock], time_zone="Europe/Lisbon")
    return runtime, owner, prop, lock, fake, device


@pytest.fixture
def no_gateway(sqlite_url, clock, tmp_path):
    built = world(sqlite_url, clock, tmp_path, has_gateway=False)
    yield built
    built[0].close()


@pytest.fixture
def unreachable(sqlite_url, clock, tmp_path):
    built = world(sqlite_url, clock, tmp_path, online=False)
    yield built
    built[0].close()


def sync(runtime, *, force=True):
    reconciler = Reconciler.from_runtime(runtime)
    return asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=force))


def stored(runtime, grant_id):
    """The grant's lock code: its offline code in clear, window, vendor, rules, last error."""
    with runtime.uow() as uow:
        [row] = uow.session.query(LockCode).filter_by(grant_id=grant_id).all()
        code = uow.offline.offline_code_of(row)
        window = (row.offline_starts_at, row.offline_ends_at)
        return code, window, row.offline_vendor, row.offline_rules, row.last_error


def computed_codes(fake, device):
    """The codes TTLock computed for the lock (not custom ones), one entry each."""
    return [p for p in fake.locks[device].passcodes.values() if not p.custom]


def test_a_lock_without_a_gateway_gets_ttlocks_offline_code_for_the_stay_in_whole_hours(
    no_gateway,
):
    runtime, owner, prop, _lock, fake, device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    sync(runtime)
    sync(runtime)
    [issued] = computed_codes(fake, device)
    code, (starts, ends), vendor, rules, _error = stored(runtime, grant.id)
    assert code == issued.pin
    assert vendor == "ttlock"
    assert starts <= grant.starts_at < starts + timedelta(hours=1)
    assert ends - timedelta(hours=1) < grant.ends_at <= ends
    assert starts.minute == ends.minute == 0
    assert any("within 24 hours" in rule for rule in rules)
    kinds = event_kinds(runtime, grant.id)
    assert (kinds["VendorOfflineCodeIssued"], kinds["GrantCodesSet"]) == (1, 1)


def test_an_answer_lost_after_ttlock_computed_the_code_is_adopted_not_asked_again(
    no_gateway, clock
):
    runtime, owner, prop, _lock, fake, device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    fake.fail_next("/v3/keyboardPwd/get", status=502, after=True)
    sync(runtime)
    assert stored(runtime, grant.id)[0] is None
    clock.advance(minutes=10)
    sync(runtime)
    [issued] = computed_codes(fake, device)
    assert stored(runtime, grant.id)[0] == issued.pin


def test_a_stay_under_way_gets_a_code_from_the_current_hour_not_from_its_check_in(
    no_gateway, clock
):
    runtime, owner, prop, _lock, fake, device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=4)).grant
    clock.now = grant.starts_at + timedelta(days=2, minutes=25)
    sync(runtime)
    code, (starts, ends), _vendor, _rules, _error = stored(runtime, grant.id)
    assert code is not None
    # One starting at the check-in, two days ago, would be dead: used within 24 h or never.
    assert starts == clock.now.replace(minute=0, second=0, microsecond=0)
    assert ends - timedelta(hours=1) < grant.ends_at <= ends
    book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=4))  # sent again
    clock.advance(hours=3)
    sync(runtime)
    assert stored(runtime, grant.id)[0] == code
    assert "VendorOfflineCodeWithdrawn" not in event_kinds(runtime, grant.id)
    assert len(computed_codes(fake, device)) == 1


def test_an_answer_lost_during_a_stay_is_adopted_after_the_hour_turns(no_gateway, clock):
    runtime, owner, prop, _lock, fake, device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=4)).grant
    clock.now = grant.starts_at + timedelta(days=1, minutes=50)
    fake.fail_next("/v3/keyboardPwd/get", status=502, after=True)
    sync(runtime)
    assert stored(runtime, grant.id)[0] is None
    clock.advance(minutes=20)  # the next pass asks from the next hour
    sync(runtime)
    [issued] = computed_codes(fake, device)
    assert stored(runtime, grant.id)[0] == issued.pin


def test_a_refused_offline_code_is_the_lock_codes_error_and_nothing_is_stored(no_gateway):
    runtime, owner, prop, _lock, fake, _device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    fake.fail_next("/v3/keyboardPwd/get", errcode=-1007)
    sync(runtime)
    code, _window, vendor, _rules, error = stored(runtime, grant.id)
    assert (code, vendor) == (None, None)
    assert error
    assert "GrantCodesSet" not in event_kinds(runtime, grant.id)


def test_moving_the_stay_withdraws_the_old_code_and_the_next_pass_issues_one_that_fits(
    no_gateway,
):
    runtime, owner, prop, _lock, fake, device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    sync(runtime)
    first = stored(runtime, grant.id)
    book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=4))
    assert stored(runtime, grant.id)[0] is None
    assert event_kinds(runtime, grant.id)["VendorOfflineCodeWithdrawn"] == 1
    sync(runtime)
    second = stored(runtime, grant.id)
    assert second[1][1] > first[1][1]
    assert second[0] != first[0]
    assert len(computed_codes(fake, device)) == 2


def test_a_cancelled_stay_forgets_its_offline_code(no_gateway):
    runtime, owner, prop, _lock, _fake, _device = no_gateway
    booked = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2))
    sync(runtime)
    cancel_reservation(runtime.uow(), owner, booked.reservation.id)
    assert stored(runtime, booked.grant.id)[0] is None
    assert event_kinds(runtime, booked.grant.id)["VendorOfflineCodeWithdrawn"] == 1


def test_an_offline_lock_with_a_gateway_gives_a_guest_due_soon_the_offline_code(unreachable, clock):
    runtime, owner, prop, _lock, fake, device = unreachable
    soon = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    later = book(runtime, owner, prop, "r2", date(2026, 11, 28), date(2026, 11, 30)).grant
    clock.now = soon.starts_at - timedelta(hours=20)
    sync(runtime)
    assert stored(runtime, soon.id)[0] is not None
    assert stored(runtime, later.id)[0] is None
    assert [p.name for p in computed_codes(fake, device)] == [f"doorcode offline {soon.id}"]
    assert event_kinds(runtime, soon.id)["GrantCodesSet"] == 1
    fake.locks[device].online = True
    sync(runtime)
    custom = [p.name for p in fake.locks[device].passcodes.values() if p.custom]
    assert custom == [f"doorcode {soon.id}"]  # the PIN arrives; the computed code stays
    assert len(computed_codes(fake, device)) == 1


def test_the_operator_sees_the_vendor_code_and_its_rules_in_the_api(no_gateway):
    runtime, owner, prop, lock, _fake, _device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    sync(runtime)
    key = create_api_key(runtime.uow(), owner, "ops", Role.MANAGER).secret
    viewer = create_api_key(runtime.uow(), owner, "look", Role.VIEWER).secret
    with TestClient(create_app(runtime)) as client:
        shown = client.get(
            f"/api/v1/grants/{grant.id}/code", headers={"Authorization": f"Bearer {key}"}
        )
        refused = client.get(
            f"/api/v1/grants/{grant.id}/code", headers={"Authorization": f"Bearer {viewer}"}
        )
    assert shown.status_code == 200, shown.text
    [offline] = shown.json()["offline_codes"]
    assert offline["lock_id"] == lock.id
    assert offline["vendor"] == "ttlock"
    assert offline["code"] == stored(runtime, grant.id)[0]
    assert any("within 24 hours" in rule for rule in offline["rules"])
    assert refused.status_code == 403
    assert offline["code"] not in refused.text


def test_grant_show_reveal_prints_the_vendor_code_with_its_rules(no_gateway, doorcode):  # noqa: F811
    runtime, owner, prop, _lock, _fake, _device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    sync(runtime)
    code = stored(runtime, grant.id)[0]
    shown = doorcode("grant", "show", grant.id, "--reveal").output
    assert f"offline code for Cabin door: {code}" in shown
    assert "from ttlock" in shown
    assert "Use it once within 24 hours of its start" in shown
    hidden = doorcode("grant", "show", grant.id).output
    assert code not in hidden


def test_reveal_access_gives_the_same_code_the_guest_gets(no_gateway):
    runtime, owner, prop, _lock, _fake, _device = no_gateway
    grant = book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    sync(runtime)
    [access] = reveal_access(runtime.uow(), owner, grant.id).offline
    assert access.code == stored(runtime, grant.id)[0]
    assert access.window.starts_at <= datetime(2026, 11, 24, 15, tzinfo=UTC)
