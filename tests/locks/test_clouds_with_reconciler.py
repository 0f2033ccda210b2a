"""What the conformance suite does not cover, on TTLock and Nuki against their local fakes.

Moving a stay moves the code's window in place (one write, same code); a create whose answer
was lost after the cloud made the change is adopted instead of duplicated; and a code is not
called set until the device holds it (TTLock refuses a write to an unreachable lock; Nuki takes
it and keeps it accepted until the smartlock is back). The locks come in as an owner's would:
the account connected, its devices imported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import Any

import pytest

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.locks.tags import grant_id_from_tag, is_offline_tag
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.locks.fakes import nuki, ttlock
from tests.locks.fakes.accounts import connect_and_import, registry_on
from tests.sync.helpers import statuses

TODAY = date(2026, 11, 23)


@dataclass
class Cloud:
    """One back-end's fake, its device, and how to read and upset the device from outside."""

    kind: str
    fake: Any
    device_id: str

    def grants_on_device(self) -> list[str | None]:
        if self.kind == "ttlock":
            codes = self.fake.codes_on_lock(int(self.device_id))
        else:
            codes = self.fake.codes_on_keypad(int(self.device_id))
        # A TTLock offline code standing in while the lock is unreachable is not a PIN.
        return sorted(grant_id_from_tag(c.name) for c in codes if not is_offline_tag(c.name))

    def windows_on_device(self) -> list[tuple[str, str]]:
        if self.kind == "ttlock":
            codes = self.fake.codes_on_lock(int(self.device_id))
            return [(c.starts_at.isoformat(), c.ends_at.isoformat()) for c in codes]
        codes = self.fake.codes_on_keypad(int(self.device_id))
        return [(c.allowed_from, c.allowed_until) for c in codes]

    def lose_the_answer_to_the_next_create(self) -> None:
        if self.kind == "ttlock":
            self.fake.fail_next("/v3/keyboardPwd/add", status=502, after=True)
        else:
            self.fake.fail_next("PUT", f"/smartlock/{self.device_id}/auth", 502, after=True)

    def cut_off(self, cut: bool) -> None:
        if self.kind == "ttlock":
            self.fake.locks[int(self.device_id)].online = not cut
        else:
            self.fake.set_online(int(self.device_id), not cut)


@pytest.fixture(params=["ttlock", "nuki"])
def world(request, sqlite_url, clock, tmp_path):
    if request.param == "ttlock":
        fake = ttlock.TtlockCloud(clock)
        device_id = str(fake.add_lock("Front door"))
    else:
        fake = nuki.NukiCloud(clock)
        device_id = str(fake.add_smartlock("Front door"))
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(
        settings, clock=clock, rng=Random(5), migrate=False, providers=registry_on(fake)
    )
    owner = make_owner(runtime)
    assert connect_and_import(runtime, owner, request.param).added == ["Front door"]
    with runtime.uow() as uow:
        lock = uow.locks.by_provider_id(request.param, device_id)
    prop = make_property(runtime, owner, "Flat", locks=[lock])
    yield runtime, owner, prop, lock, Cloud(request.param, fake, device_id)
    runtime.close()


def sync(runtime, *, force=False):
    reconciler = Reconciler.from_runtime(runtime)
    return asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=force))


def test_moving_the_stay_moves_the_window_on_the_lock(world):
    runtime, owner, prop, _lock, cloud = world
    book(runtime, owner, prop, "r1", TODAY, TODAY + timedelta(days=3))
    sync(runtime)
    before = cloud.windows_on_device()
    book(runtime, owner, prop, "r1", TODAY, TODAY + timedelta(days=5))
    sync(runtime)
    after = cloud.windows_on_device()
    assert len(before) == len(after) == 1
    assert after[0][0] == before[0][0]
    assert after[0][1] > before[0][1]


def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(world, clock):
    runtime, owner, prop, lock, cloud = world
    book(runtime, owner, prop, "r1", TODAY, TODAY + timedelta(days=3))
    cloud.lose_the_answer_to_the_next_create()
    sync(runtime)
    clock.advance(hours=1)
    sync(runtime, force=True)
    [grant_id] = cloud.grants_on_device()
    assert statuses(runtime, grant_id) == {lock.id: "set"}


def test_a_code_is_not_called_set_until_an_unreachable_lock_holds_it(world, clock):
    runtime, owner, prop, lock, cloud = world
    grant = book(runtime, owner, prop, "r1", TODAY, TODAY + timedelta(days=3)).grant
    cloud.cut_off(True)
    sync(runtime)
    sync(runtime, force=True)
    assert cloud.grants_on_device() == []
    waiting = "accepted" if cloud.kind == "nuki" else "failed"
    assert statuses(runtime, grant.id) == {lock.id: waiting}
    cloud.cut_off(False)
    clock.advance(hours=1)
    sync(runtime, force=True)
    sync(runtime, force=True)
    assert cloud.grants_on_device() == [grant.id]
    assert statuses(runtime, grant.id) == {lock.id: "set"}
