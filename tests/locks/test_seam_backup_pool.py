"""Seam's backup pool and common code key, through the reconciler against Seam's own fake.

A device that keeps a pool gets every time-bound code with ``use_backup_access_code_pool``;
a guest due within a day whose code failed, or whose lock is offline, or whose code is
still only accepted half an hour before the stay, gets the pool's backup as that lock's
stand-in code (Seam keeps time-bound codes ``unset`` until shortly before they start),
stored and shown like an offline code. Codes of one grant on several locks carry one
``common_code_key``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from random import Random

import httpx
import pytest
from sqlalchemy import delete, select

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import NewCode
from doorcode.locks.errors import CodeNotFound
from doorcode.locks.seam import SeamProvider
from doorcode.services.grants import reveal_access
from doorcode.services.lock_import import import_locks
from doorcode.services.lock_removal import LockUnreachable, forget_lock, remove_lock
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import Event, Grant, LockCode, PulledBackupCode
from doorcode.sync.lock_pass import LockPass
from doorcode.sync.reconciler import Reconciler
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.sync.helpers import event_kinds

TOMORROW = date(2026, 11, 24)


@pytest.fixture
def seam_world(seam_peer, sqlite_url, clock, tmp_path):
    seam_peer.add_device("dev_front", "Front door", supports_backup_access_code_pool=True)
    seam_peer.add_device("dev_back", "Back door")
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(settings, clock=clock, rng=Random(5), migrate=False)
    owner = make_owner(runtime)
    request = account_request(
        runtime.providers,
        "seam",
        "Seam",
        {"api_key": seam_peer.api_key},
        {"base_url": seam_peer.api_url},
    )
    connect_account(runtime.uow(), owner, request)
    asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Seam"))
    with runtime.uow() as uow:
        front = uow.locks.find(owner.organisation_id, "dev_front")
        back = uow.locks.find(owner.organisation_id, "dev_back")
    villa = make_property(runtime, owner, "Villa", locks=[front, back])
    yield runtime, owner, villa, front, back
    runtime.close()


def sync(runtime):
    reconciler = Reconciler.from_runtime(runtime)
    return asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))


def events_of(runtime, subject_id, kind):
    with runtime.uow() as uow:
        query = select(Event).where(Event.subject_id == subject_id, Event.kind == kind)
        return list(uow.session.scalars(query))


def stand_in(runtime, grant_id, lock_id):
    with runtime.uow() as uow:
        row = uow.session.get(LockCode, (grant_id, lock_id))
        return uow.offline.offline_code_of(row), row.offline_vendor, row.offline_rules


def test_a_code_still_unset_half_an_hour_before_the_stay_gets_the_pools_backup_once(
    seam_world, seam_peer, clock
):
    runtime, owner, villa, front, back = seam_world
    grant = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    clock.now = grant.starts_at - timedelta(hours=20)
    sync(runtime)  # the fake leaves every code "unset", as Seam does until shortly before
    sync(runtime)
    assert stand_in(runtime, grant.id, front.id) == (None, None, None)  # no sign of trouble
    assert "BackupCodePulled" not in event_kinds(runtime, grant.id)
    clock.now = grant.starts_at - timedelta(minutes=25)
    sync(runtime)
    sync(runtime)
    code, vendor, rules = stand_in(runtime, grant.id, front.id)
    backups = [c for c in seam_peer.codes() if c.get("is_backup")]
    assert code in {c["code"] for c in backups}
    assert vendor == "seam"
    assert any("backup code" in rule for rule in rules)
    assert stand_in(runtime, grant.id, back.id) == (None, None, None)  # keeps no pool
    assert event_kinds(runtime, grant.id)["BackupCodePulled"] == 1
    [front_access] = reveal_access(runtime.uow(), owner, grant.id).offline
    assert (front_access.lock_id, front_access.code) == (front.id, code)


def test_a_failed_code_of_a_guest_due_tomorrow_gets_the_pools_backup(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    grant = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    clock.now = grant.starts_at - timedelta(hours=30)
    sync(runtime)
    [ours] = [
        c
        for c in seam_peer.codes()
        if c["device_id"] == "dev_front" and c["name"] == f"doorcode {grant.id}"
    ]
    failure = {
        "error_code": "failed_to_set_on_device",
        "message": "m",
        "is_access_code_error": True,
    }
    seam_peer.control(
        "/update_access_code", {"access_code_id": ours["access_code_id"], "errors": [failure]}
    )
    clock.now = grant.starts_at - timedelta(hours=20)
    sync(runtime)
    code, vendor, _rules = stand_in(runtime, grant.id, front.id)
    assert vendor == "seam"
    assert code in {c["code"] for c in seam_peer.codes() if c.get("is_backup")}
    assert event_kinds(runtime, grant.id)["BackupCodePulled"] == 1


def test_a_guest_days_away_gets_no_backup_and_pool_codes_are_not_the_owners(seam_world, seam_peer):
    runtime, owner, villa, front, _back = seam_world
    grant = book(runtime, owner, villa, "r1", date(2026, 11, 25), date(2026, 11, 27)).grant
    sync(runtime)
    assert stand_in(runtime, grant.id, front.id) == (None, None, None)
    created = [c for c in seam_peer.codes() if c["name"] == f"doorcode {grant.id}"]
    assert len(created) == 2
    assert "UnmanagedCodeFound" not in event_kinds(runtime)


def test_a_confirmed_code_needs_no_backup(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    grant = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=2)).grant
    clock.now = grant.starts_at - timedelta(hours=30)
    sync(runtime)
    seam_peer.confirm_all()
    clock.now = grant.starts_at - timedelta(hours=20)
    sync(runtime)
    assert stand_in(runtime, grant.id, front.id) == (None, None, None)
    assert event_kinds(runtime, grant.id)["GrantCodesSet"] == 1


def test_a_create_names_its_grant_versions_common_code_key_and_asks_for_a_pool():

    asked = []

    def answer(request):
        body = json.loads(request.content)
        asked.append((request.url.path, body))
        if request.url.path == "/devices/get":
            device = {
                "device_id": "dev_front",
                "properties": {"supports_backup_access_code_pool": True},
            }
            return httpx.Response(200, json={"device": device})
        code = {"access_code_id": "ac_1", "device_id": "dev_front", "name": body["name"]}
        return httpx.Response(
            200, json={"access_code": code | {"code": "4821", "status": "setting"}}
        )

    window = TimeWindow(
        datetime(2026, 12, 3, 15, tzinfo=UTC), datetime(2026, 12, 5, 11, tzinfo=UTC)
    )

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            seam = SeamProvider(
                http, "seam_key", "https://connect.example", lambda: window.starts_at
            )
            new = NewCode("doorcode grt_a1", "4821", window, shared_key="doorcode grt_a1 v3")
            await seam.create_code("dev_front", new)
            await seam.create_code("dev_front", new)

    asyncio.run(go())
    creates = [body for path, body in asked if path == "/access_codes/create"]
    assert [path for path, _ in asked].count("/devices/get") == 1  # asked once per device
    assert all(body["common_code_key"] == "doorcode grt_a1 v3" for body in creates)
    assert all(body["use_backup_access_code_pool"] is True for body in creates)


def pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front):
    """A stay due in 25 minutes whose code is still unset: the pool's backup stands in."""
    booked = late_stay(runtime, owner, villa, clock)
    sync(runtime)
    code, _vendor, _rules = stand_in(runtime, booked.grant.id, front.id)
    [backup] = [c for c in seam_peer.codes() if c.get("is_backup") and c["code"] == code]
    return booked, backup["access_code_id"]


def late_stay(runtime, owner, villa, clock):
    """A stay from tomorrow, 25 minutes before its code must work, after one pass."""
    booked = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=2))
    clock.now = booked.grant.starts_at - timedelta(minutes=25)
    sync(runtime)
    return booked


def pool_backup_id(seam_peer):
    """The one backup code Seam's pool handed out."""
    [backup_id] = [c["access_code_id"] for c in seam_peer.codes() if c.get("is_backup")]
    return backup_id


def pulled_records(runtime):
    with runtime.uow() as uow:
        rows = uow.session.scalars(select(PulledBackupCode)).all()
        return [(row.code_ref, row.removed_at is not None) for row in rows]


def test_a_cancelled_stays_backup_code_is_deleted_from_the_lock(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    assert pulled_records(runtime) == [(backup_id, False)]
    cancel_reservation(runtime.uow(), owner, booked.reservation.id)
    sync(runtime)
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert stand_in(runtime, booked.grant.id, front.id) == (None, None, None)
    assert pulled_records(runtime) == [(backup_id, True)]
    assert event_kinds(runtime, booked.grant.id)["BackupCodeDeleted"] == 1
    sync(runtime)  # deleted once: nothing left to do
    assert event_kinds(runtime, booked.grant.id)["BackupCodeDeleted"] == 1


def test_a_backup_code_whose_grant_row_is_deleted_outright_still_leaves_the_lock(
    seam_world, seam_peer, clock
):
    # No path of doorcode deletes a grant row today (a cancelled stay revokes its grant); the
    # row is deleted in the database, as an operator's clean-up or a future purge would.
    runtime, owner, villa, front, _back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    with runtime.uow() as uow:
        uow.session.execute(delete(Grant).where(Grant.id == booked.grant.id))
        uow.commit()
    assert pulled_records(runtime) == [(backup_id, False)]  # the record outlives the grant
    sync(runtime)
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == [(backup_id, True)]
    [deleted] = events_of(runtime, booked.grant.id, "BackupCodeDeleted")
    assert deleted.reason == "the grant was deleted"


def seam_calls(monkeypatch):
    """The paths of every call doorcode makes to Seam from now on, in order."""
    calls = []
    post = SeamProvider._post

    async def counted(self, path, body):
        calls.append(path)
        return await post(self, path, body)

    monkeypatch.setattr(SeamProvider, "_post", counted)
    return calls


def test_a_429_on_a_backup_codes_delete_pauses_seam_and_the_delete_waits_for_retry_after(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, front, back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    cancel_reservation(runtime.uow(), owner, booked.reservation.id)
    calls = seam_calls(monkeypatch)
    seam_peer.throttle("/access_codes/delete", retry_after=120)
    reconciler = Reconciler.from_runtime(runtime)  # one limiter across the passes, as a worker
    [throttled] = asyncio.run(reconciler.reconcile([front.id], force=True))
    assert calls[-1] == "/access_codes/delete"  # the backup's: no call after the 429
    assert calls.count("/access_codes/delete") == 1
    assert "429" in throttled.error
    assert throttled.next_sync_at == clock.now + timedelta(seconds=120)
    assert backup_id in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == [(backup_id, False)]
    [failed] = events_of(runtime, booked.grant.id, "LockCodeFailed")
    assert failed.details["operation"] == "delete_backup_code"

    calls.clear()
    clock.advance(seconds=119)
    waiting = asyncio.run(reconciler.reconcile([back.id, front.id], force=True))
    assert {o.skipped for o in waiting} == {"seam asked us to wait"}  # every lock of the account
    assert {o.next_sync_at for o in waiting} == {throttled.next_sync_at}
    assert calls == []
    assert pulled_records(runtime) == [(backup_id, False)]

    clock.advance(seconds=1)
    asyncio.run(reconciler.reconcile([front.id], force=True))
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == [(backup_id, True)]
    assert event_kinds(runtime, booked.grant.id)["BackupCodeDeleted"] == 1


def test_a_429_on_a_backup_pull_pauses_seam_and_the_pull_waits_for_retry_after(
    seam_world, seam_peer, clock, monkeypatch
):
    # Recorded as a failure and nothing more, a throttled pull let the pass go on calling an
    # account that had asked for a break, and the next pass pull again at once.
    runtime, owner, villa, front, back = seam_world
    booked = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=2))
    sync(runtime)  # its code is on Seam, still unset: Seam sets time-bound codes late
    clock.now = booked.grant.starts_at - timedelta(minutes=25)
    calls = seam_calls(monkeypatch)
    seam_peer.throttle("/access_codes/pull_backup_access_code", retry_after=120)
    reconciler = Reconciler.from_runtime(runtime)  # one limiter across the passes, as a worker
    [throttled] = asyncio.run(reconciler.reconcile([front.id], force=True))
    assert calls.count("/access_codes/pull_backup_access_code") == 1
    assert calls[-1] == "/access_codes/pull_backup_access_code"  # no call after the 429
    assert "429" in throttled.error
    assert throttled.next_sync_at == clock.now + timedelta(seconds=120)
    assert stand_in(runtime, booked.grant.id, front.id) == (None, None, None)
    [failed] = events_of(runtime, booked.grant.id, "LockCodeFailed")
    assert failed.details["operation"] == "pull_backup_code"

    calls.clear()
    clock.advance(seconds=119)
    waiting = asyncio.run(reconciler.reconcile([back.id, front.id], force=True))
    assert {o.skipped for o in waiting} == {"seam asked us to wait"}  # every lock of the account
    assert calls == []

    clock.advance(seconds=1)
    asyncio.run(reconciler.reconcile([front.id], force=True))
    code, _vendor, _rules = stand_in(runtime, booked.grant.id, front.id)
    assert code is not None
    assert any(c.get("is_backup") and c["code"] == code for c in seam_peer.codes())


def test_a_moved_stays_backup_code_that_no_longer_fits_is_deleted(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    later = TOMORROW + timedelta(days=3)
    moved = book(runtime, owner, villa, "r1", later, later + timedelta(days=2)).grant
    assert moved.id == booked.grant.id
    sync(runtime)
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert stand_in(runtime, moved.id, front.id) == (None, None, None)
    assert pulled_records(runtime) == [(backup_id, True)]
    [deleted] = events_of(runtime, moved.id, "BackupCodeDeleted")
    assert "moved" in deleted.reason


def test_a_backup_code_leaves_the_lock_when_the_stay_is_over(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    clock.now = booked.grant.ends_at + timedelta(minutes=1)
    sync(runtime)
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == [(backup_id, True)]


def test_a_backup_pulled_for_a_stay_cancelled_during_the_pass_is_recorded_and_deleted(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, front, _back = seam_world
    booked = late_stay(runtime, owner, villa, clock)
    pull = SeamProvider.pull_backup_code

    async def pull_then_cancel(self, device_id, code_id):
        backup = await pull(self, device_id, code_id)
        cancel_reservation(runtime.uow(), owner, booked.reservation.id)  # commits mid-pass
        return backup

    monkeypatch.setattr(SeamProvider, "pull_backup_code", pull_then_cancel)
    sync(runtime)
    monkeypatch.setattr(SeamProvider, "pull_backup_code", pull)
    backup_id = pool_backup_id(seam_peer)
    assert stand_in(runtime, booked.grant.id, front.id) == (None, None, None)
    assert pulled_records(runtime) == [(backup_id, False)]
    sync(runtime)
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == [(backup_id, True)]


def test_a_backup_pulled_by_a_pass_whose_result_cannot_be_written_is_recorded(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, _front, _back = seam_world
    late_stay(runtime, owner, villa, clock)

    def broken(uow, found):
        raise RuntimeError("the stand-in cannot be stored")

    monkeypatch.setattr("doorcode.sync.reconciler.store_vendor_code", broken)
    [outcome, _] = sorted(sync(runtime), key=lambda o: o.lock_name != "Front door")
    assert outcome.error
    backup_id = pool_backup_id(seam_peer)
    assert pulled_records(runtime) == [(backup_id, False)]


def test_a_backup_pulled_by_a_pass_that_crashed_later_is_recorded(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, _front, _back = seam_world
    late_stay(runtime, owner, villa, clock)

    async def crash(self, provider, plan):
        raise RuntimeError("a bug after the pull")

    monkeypatch.setattr(LockPass, "_fall_back_to_vendor_codes", crash)
    sync(runtime)
    backup_id = pool_backup_id(seam_peer)
    assert pulled_records(runtime) == [(backup_id, False)]


def test_a_lock_whose_backup_code_cannot_be_deleted_is_not_forgotten(seam_world, seam_peer, clock):
    runtime, owner, villa, front, _back = seam_world
    booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    [ours] = [
        c
        for c in seam_peer.codes()
        if c["name"] == f"doorcode {booked.grant.id}" and c["device_id"] == "dev_front"
    ]
    seam_peer.control("/delete_access_code", {"access_code_id": ours["access_code_id"]})
    seam_peer.control("/outage", {"routes": ["/access_codes/delete"]})
    with pytest.raises(LockUnreachable, match="could not be removed"):
        remove_lock(runtime, owner, "dev_front")
    assert pulled_records(runtime) == [(backup_id, False)]
    with runtime.uow() as uow:
        assert uow.locks.find(owner.organisation_id, "dev_front") is not None
    seam_peer.control("/recover")
    removal = remove_lock(runtime, owner, "dev_front")
    assert removal.codes_deleted == 1  # the backup
    assert backup_id not in {c["access_code_id"] for c in seam_peer.codes()}
    assert pulled_records(runtime) == []  # the lock's rows went with it, after the code


def test_a_lock_is_not_forgotten_while_a_pulled_backup_is_on_it_unless_asked(
    seam_world, seam_peer, clock
):
    runtime, owner, villa, front, _back = seam_world
    _booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    with pytest.raises(LockUnreachable, match="backup code"):
        forget_lock(runtime.uow(), owner, front.id)
    assert pulled_records(runtime) == [(backup_id, False)]
    forget_lock(runtime.uow(), owner, front.id, forget_anyway=True)
    assert pulled_records(runtime) == []


def test_a_moved_stay_gets_a_fresh_backup_after_its_old_one_was_deleted(
    seam_world, seam_peer, clock
):
    runtime, owner, villa, front, _back = seam_world
    _booked, backup_id = pull_backup_for_a_late_code(runtime, seam_peer, clock, villa, owner, front)
    # A longer stay: Seam moves the code's window in place, and the code keeps its id (and
    # Seam its memory of the backup it gave that code, which no longer fits and is deleted).
    moved = book(runtime, owner, villa, "r1", TOMORROW, TOMORROW + timedelta(days=3)).grant
    sync(runtime)
    sync(runtime)
    sync(runtime)
    code, vendor, _rules = stand_in(runtime, moved.id, front.id)
    assert vendor == "seam"
    backups = {c["code"]: c["access_code_id"] for c in seam_peer.codes() if c.get("is_backup")}
    assert code in backups
    assert backups[code] != backup_id
    assert sorted(pulled_records(runtime)) == sorted([(backup_id, True), (backups[code], False)])
    # At most the pass that moved the window failed to pull; none tries again.
    assert event_kinds(runtime, moved.id)["LockCodeFailed"] <= 1
    sync(runtime)
    sync(runtime)
    assert event_kinds(runtime, moved.id)["LockCodeFailed"] <= 1
    assert event_kinds(runtime, moved.id)["BackupCodePulled"] == 2
    [replaced] = [
        e for e in events_of(runtime, moved.id, "LockCodeDeleted") if "backup" in e.reason
    ]
    ours = [c for c in seam_peer.codes() if c["name"] == f"doorcode {moved.id}"]
    assert replaced.details["provider_code_id"] not in {c["access_code_id"] for c in ours}
    assert len([c for c in ours if c["device_id"] == "dev_front"]) == 1


def test_a_code_is_not_replaced_when_its_pull_fails_for_another_reason(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, front, _back = seam_world
    booked = late_stay(runtime, owner, villa, clock)
    before = {c["access_code_id"] for c in seam_peer.codes()}

    async def not_found(self, device_id, code_id):
        raise CodeNotFound("Seam has no backup for this code")

    monkeypatch.setattr(SeamProvider, "pull_backup_code", not_found)
    sync(runtime)
    assert {c["access_code_id"] for c in seam_peer.codes()} == before
    failed = events_of(runtime, booked.grant.id, "LockCodeFailed")
    assert front.id in {event.details["lock_id"] for event in failed}
    assert "LockCodeDeleted" not in event_kinds(runtime, booked.grant.id)


def test_a_crashed_pass_whose_pulls_cannot_be_stored_still_records_them(
    seam_world, seam_peer, clock, monkeypatch
):
    runtime, owner, villa, front, _back = seam_world
    late_stay(runtime, owner, villa, clock)

    async def crash(self, provider, plan):
        raise RuntimeError("a bug after the pull")

    def broken(uow, found):
        raise RuntimeError("the stand-in cannot be stored")

    monkeypatch.setattr(LockPass, "_fall_back_to_vendor_codes", crash)
    monkeypatch.setattr("doorcode.sync.reconciler.store_vendor_code", broken)
    reconciler = Reconciler.from_runtime(runtime)
    [outcome] = asyncio.run(reconciler.reconcile([front.id], force=True))
    assert outcome.error
    backup_id = pool_backup_id(seam_peer)
    assert pulled_records(runtime) == [(backup_id, False)]
