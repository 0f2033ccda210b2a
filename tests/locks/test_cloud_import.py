"""Importing a TTLock or Nuki account: its devices become locks with what the vendor reports."""

from random import Random

import pytest

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.store.capability_codec import capabilities_from_json
from tests.builders import make_owner
from tests.conftest import TEST_KEY
from tests.locks.fakes import nuki, ttlock
from tests.locks.fakes.accounts import connect_and_import, registry_on


def fake_cloud(kind, clock):
    if kind == "ttlock":
        cloud = ttlock.TtlockCloud(clock)
        ids = [cloud.add_lock("Front door", battery=64), cloud.add_lock("Cabin", has_gateway=False)]
    else:
        cloud = nuki.NukiCloud(clock)
        ids = [
            cloud.add_smartlock("Front door", battery=64),
            cloud.add_smartlock("Cabin", online=False),
        ]
    return cloud, [str(device_id) for device_id in ids]


@pytest.fixture(params=["ttlock", "nuki"])
def imported(request, sqlite_url, clock, tmp_path):
    cloud, ids = fake_cloud(request.param, clock)
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(
        settings, clock=clock, rng=Random(3), migrate=False, providers=registry_on(cloud)
    )
    owner = make_owner(runtime)
    report = connect_and_import(runtime, owner, request.param)
    yield request.param, runtime, owner, cloud, ids, report
    runtime.close()


def locks_by_name(runtime, owner):
    with runtime.uow() as uow:
        return {lock.name: lock for lock in uow.locks.all(owner.organisation_id)}


def test_every_device_becomes_a_lock_with_its_health(imported):
    kind, runtime, owner, _cloud, ids, report = imported
    assert sorted(report.added) == ["Cabin", "Front door"]
    front, cabin = (
        locks_by_name(runtime, owner)["Front door"],
        locks_by_name(runtime, owner)["Cabin"],
    )
    assert (front.provider, front.external_id) == (kind, ids[0])
    assert (front.health_online, front.health_battery) == (True, 64)
    assert cabin.health_online is False


def test_the_vendors_code_rules_come_with_the_lock(imported):
    kind, runtime, owner, *_ = imported
    capabilities = capabilities_from_json(locks_by_name(runtime, owner)["Front door"].capabilities)
    if kind == "ttlock":
        assert (capabilities.max_codes, capabilities.code_lengths) == (250, frozenset(range(4, 10)))
    else:
        assert capabilities.code_lengths == {6}
        assert "12" in capabilities.constraints.forbidden_prefixes


def test_a_ttlock_lock_without_a_gateway_is_offline_with_vendor_offline_codes(imported):
    kind, runtime, owner, *_ = imported
    if kind != "ttlock":
        pytest.skip("gateways are TTLock's")
    capabilities = capabilities_from_json(locks_by_name(runtime, owner)["Cabin"].capabilities)
    assert (capabilities.online, capabilities.offline_codes) == (False, True)


def test_importing_again_changes_nothing(imported):
    kind, runtime, owner, *_ = imported
    before = {name: lock.capabilities for name, lock in locks_by_name(runtime, owner).items()}
    report = connect_and_import(runtime, owner, kind)
    assert (report.added, report.changed, sorted(report.unchanged)) == (
        [],
        [],
        ["Cabin", "Front door"],
    )
    after = {name: lock.capabilities for name, lock in locks_by_name(runtime, owner).items()}
    assert after == before


def test_a_device_gone_at_the_vendor_is_reported_not_dropped(imported):
    kind, runtime, owner, cloud, ids, _ = imported
    if kind == "ttlock":
        del cloud.locks[int(ids[1])]
    else:
        del cloud.smartlocks[int(ids[1])]
    report = connect_and_import(runtime, owner, kind)
    assert report.gone == ["Cabin"]
    assert "Cabin" in locks_by_name(runtime, owner)
