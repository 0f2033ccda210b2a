"""The virtual lock cloud behaves like a real one: memory, rules, faults, keypad, persistence."""

import asyncio
import os
import stat
from datetime import UTC, datetime, timedelta
from random import Random
from unittest.mock import Mock

import pytest

from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.base import NewCode
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.tags import grant_id_from_tag, tag_for
from doorcode.locks.virtual import Faults, VirtualCloud, VirtualLockProvider

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = TimeWindow(NOW + timedelta(seconds=30), NOW + timedelta(hours=2, seconds=10))


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cloud(clock):
    cloud = VirtualCloud(clock, rng=Random(1))
    cloud.install("door", "Door", LockCapabilities(max_codes=2))
    cloud.install(
        "keypad",
        "Keypad",
        LockCapabilities(native_scheduling=False, constraints=CodeConstraints(no_zeros=True)),
    )
    return cloud


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_created_code_is_listed_with_its_tag_and_its_window_to_the_minute(cloud):
    provider = VirtualLockProvider(cloud)
    created = run(provider.create_code("door", NewCode(tag_for("grt_a1"), "482913", WINDOW)))
    [listed] = run(provider.list_codes("door"))
    assert listed == created
    assert grant_id_from_tag(listed.name) == "grt_a1"
    assert listed.starts_at == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert listed.ends_at == datetime(2026, 12, 1, 14, 1, tzinfo=UTC)
    assert "482913" not in repr(listed)


def test_a_full_lock_refuses_another_code(cloud):
    provider = VirtualLockProvider(cloud)
    for pin in ("111222", "333444"):
        run(provider.create_code("door", NewCode("x", pin, WINDOW)))
    with pytest.raises(NoSpaceLeft):
        run(provider.create_code("door", NewCode("x", "555666", WINDOW)))


def test_the_lock_applies_its_own_rules(cloud):
    provider = VirtualLockProvider(cloud)
    with pytest.raises(CodeRefused, match="contains a zero"):
        run(provider.create_code("keypad", NewCode("x", "102938")))
    with pytest.raises(CodeRefused, match="cannot schedule"):
        run(provider.create_code("keypad", NewCode("x", "192838", WINDOW)))
    with pytest.raises(CodeRefused, match="3-symbol"):
        run(provider.create_code("door", NewCode("x", "123", WINDOW)))


def test_a_pin_already_on_the_lock_is_refused(cloud):
    provider = VirtualLockProvider(cloud)
    run(provider.create_code("door", NewCode("x", "482913", WINDOW)))
    with pytest.raises(DuplicateCode):
        run(provider.create_code("door", NewCode("y", "482913", WINDOW)))


def test_updating_or_deleting_a_missing_code_says_so(cloud):
    provider = VirtualLockProvider(cloud)
    with pytest.raises(CodeNotFound):
        run(provider.delete_code("door", "vc_404"))
    with pytest.raises(CodeNotFound):
        run(provider.update_code("door", "vc_404", WINDOW))
    with pytest.raises(UnknownDevice):
        run(provider.list_codes("nowhere"))


def test_an_offline_lock_answers_again_after_its_spell(cloud, clock):
    provider = VirtualLockProvider(cloud)
    cloud.go_offline("door", NOW + timedelta(minutes=10))
    with pytest.raises(LockOffline):
        run(provider.list_codes("door"))
    clock.now += timedelta(minutes=10)
    assert run(provider.list_codes("door")) == []


def test_a_rate_limit_carries_its_retry_after(cloud):
    cloud.faults = Faults(rate_limit_rate=1.0, retry_after=timedelta(seconds=42))
    with pytest.raises(RateLimited) as raised:
        run(VirtualLockProvider(cloud).list_codes("door"))
    assert raised.value.retry_after == timedelta(seconds=42)


def test_timeouts_strike_before_or_after_the_change_like_a_real_network(cloud):
    provider = VirtualLockProvider(cloud)
    cloud.faults = Faults(timeout_rate=1.0)
    for n in range(20):
        pin = f"{n // 9 + 1}{n % 9 + 1}9999"
        with pytest.raises(ProviderUnavailable, match="timed out"):
            run(provider.create_code("keypad", NewCode("x", pin)))
    cloud.faults = Faults()
    assert 0 < len(cloud.codes_on("keypad")) < 20


def test_someone_deleting_codes_by_hand_is_a_fault_too(cloud):
    provider = VirtualLockProvider(cloud)
    run(provider.create_code("keypad", NewCode("x", "192837")))
    cloud.faults = Faults(hand_delete_rate=1.0)
    assert run(provider.list_codes("keypad")) == []


def test_the_keypad_opens_only_inside_the_window_and_keeps_no_pin(cloud):
    provider = VirtualLockProvider(cloud)
    run(provider.create_code("door", NewCode(tag_for("grt_a1"), "482913", WINDOW)))
    inside = cloud.enter("door", "482913", NOW + timedelta(hours=1))
    assert inside.opened
    assert inside.grant_id == "grt_a1"
    assert not cloud.enter("door", "482913", NOW - timedelta(minutes=1)).opened
    late = cloud.enter("door", "482913", NOW + timedelta(hours=3))
    assert "expired" in late.reason
    assert cloud.enter("door", "000000", NOW).reason == "no such code on this lock"
    log = cloud.access_log("door")
    assert [event.opened for event in log] == [True, False, False, False]
    assert "482913" not in repr(log)


def test_the_keypad_works_while_the_cloud_cannot_reach_the_lock(cloud):
    run(VirtualLockProvider(cloud).create_code("keypad", NewCode("x", "192837")))
    cloud.go_offline("keypad", NOW + timedelta(days=1))
    assert cloud.enter("keypad", "192837", NOW).opened


def test_two_processes_share_the_file_backed_cloud(tmp_path, clock):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install("door", "Door", LockCapabilities(constraints=CodeConstraints(no_zeros=True)))
    run(VirtualLockProvider(server).create_code("door", NewCode("x", "482913", WINDOW)))
    terminal = VirtualCloud(clock, path=path)
    assert terminal.enter("door", "482913", NOW + timedelta(hours=1)).opened
    assert len(server.access_log("door")) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(CodeRefused):
        run(VirtualLockProvider(terminal).create_code("door", NewCode("y", "102938", WINDOW)))


def test_hand_edits_change_what_the_lock_holds(cloud):
    code_id = cloud.add_by_hand("door", "Grandma", "135790")
    cloud.change_by_hand("door", code_id, code="246802")
    assert cloud.enter("door", "246802", NOW).opened
    cloud.delete_by_hand("door", code_id)
    assert cloud.codes_on("door") == []


@pytest.mark.parametrize(
    "name", ["doorcode grt_abc234", "doorcode  grt_abc234 ", " doorcode grt_abc234"]
)
def test_our_tag_is_recognised(name):
    assert grant_id_from_tag(name) == "grt_abc234"


@pytest.mark.parametrize("name", ["", None, "Grandma", "doorcode", "doorcode res_abc", "grt_abc"])
def test_codes_set_by_hand_carry_no_grant(name):
    assert grant_id_from_tag(name) is None


def test_keypad_entries_are_access_events_after_a_cursor_oldest_first(cloud, clock):
    provider = VirtualLockProvider(cloud)
    run(provider.create_code("door", NewCode(tag_for("grt_a1"), "482913", WINDOW)))
    hand = cloud.add_by_hand("door", "Grandma", "135790")
    clock.now = NOW + timedelta(minutes=5)
    cloud.enter("door", "482913")
    cloud.enter("door", "000000")
    first = run(provider.access_events("door", None))
    assert [(e.outcome, e.code_ref, e.reason) for e in first.events] == [
        (AccessOutcome.OPENED, tag_for("grt_a1"), None),
        (AccessOutcome.REFUSED, None, RefusalReason.UNKNOWN_CODE),
    ]
    assert all(e.method is AccessMethod.KEYPAD and e.device_id == "door" for e in first.events)
    assert "482913" not in repr(first)
    assert run(provider.access_events("door", first.cursor)).events == ()
    clock.now = NOW + timedelta(hours=3)
    cloud.enter("door", "482913")
    cloud.enter("door", "135790")
    later = run(provider.access_events("door", first.cursor))
    assert [(e.outcome, e.code_ref, e.reason) for e in later.events] == [
        (AccessOutcome.REFUSED, tag_for("grt_a1"), RefusalReason.OUTSIDE_WINDOW),
        (AccessOutcome.OPENED, hand, None),
    ]
    assert len({e.event_id for e in first.events + later.events}) == 4


def test_health_reports_the_battery_the_link_and_the_last_contact(cloud, clock):
    provider = VirtualLockProvider(cloud)
    assert run(provider.health("door")) == LockHealth(True, 100, NOW)
    cloud.set_battery("door", 12)
    cloud.go_offline("door", NOW + timedelta(hours=1))
    clock.now = NOW + timedelta(minutes=20)
    assert run(provider.health("door")) == LockHealth(False, 12, NOW)
    clock.now = NOW + timedelta(hours=2)
    assert run(provider.health("door")) == LockHealth(True, 12, NOW + timedelta(hours=2))


def test_a_keypad_without_network_reports_neither_health_nor_events(clock):
    cloud = VirtualCloud(clock, rng=Random(1))
    cloud.install("cabin", "Cabin", LockCapabilities(online=False, native_scheduling=False))
    provider = VirtualLockProvider(cloud)
    cloud.enter("cabin", "123456")
    assert run(provider.health("cabin")) == LockHealth(None, None, None)
    assert run(provider.access_events("cabin", None)).events == ()


def test_the_file_backed_cloud_keeps_the_log_sequence_and_battery(tmp_path, clock):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install("door", "Door", LockCapabilities())
    server.enter("door", "111111")
    server.set_battery("door", 40)
    terminal = VirtualCloud(clock, path=path)
    terminal.enter("door", "222222")
    page = run(VirtualLockProvider(server).access_events("door", None))
    assert [e.event_id for e in page.events] == ["ve_1", "ve_2"]
    assert run(VirtualLockProvider(terminal).health("door")).battery_percent == 40
    assert "111111" not in path.read_text()


def test_devices_installed_together_are_all_in_the_file(tmp_path, clock):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install_many((f"door-{n}", f"Door {n}", LockCapabilities()) for n in range(50))
    terminal = VirtualCloud(clock, path=path)
    assert all(terminal.has_device(f"door-{n}") for n in range(50))


def test_each_process_sees_the_other_s_changes_however_often_it_reads(tmp_path, clock):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install("door", "Door", LockCapabilities())
    terminal = VirtualCloud(clock, path=path)
    for code in ("482913", "593024", "604135"):
        run(VirtualLockProvider(server).create_code("door", NewCode(code, code, WINDOW)))
        assert code in [c.code for c in terminal.codes_on("door")]
        terminal.set_battery("door", int(code[:2]))
        assert run(VirtualLockProvider(server).health("door")).battery_percent == int(code[:2])


def test_a_change_the_file_did_not_take_is_not_kept_in_memory(tmp_path, clock, monkeypatch):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install("door", "Door", LockCapabilities())
    with monkeypatch.context() as full_disk:
        full_disk.setattr(
            "doorcode.locks.virtual.os.replace", Mock(side_effect=OSError(28, "No space left"))
        )
        with pytest.raises(OSError, match="No space"):
            server.add_by_hand("door", "Family", "246813")
    assert server.codes_on("door") == []
    assert VirtualCloud(clock, path=path).codes_on("door") == []


def test_another_process_s_write_of_the_same_size_and_instant_is_seen(tmp_path, clock):
    path = tmp_path / "virtual-locks.json"
    server = VirtualCloud(clock, path=path)
    server.install("door", "Door", LockCapabilities())
    server.set_battery("door", 40)
    written = path.stat()
    terminal = VirtualCloud(clock, path=path)
    terminal.set_battery("door", 50)
    terminal.set_battery("door", 60)  # the file system hands the first inode out again
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns))  # a coarse file clock
    assert server.health_of("door").battery_percent == 60
