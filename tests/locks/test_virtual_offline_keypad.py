"""The virtual cloud's offline keypads judge codes by themselves, from the key loaded into them."""

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.offline import KeyGroup, issue_offline_code
from doorcode.domain.windows import TimeWindow
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.services import offline_codes
from doorcode.services.errors import InvalidRequest
from tests.builders import make_lock, make_owner

OFFLINE = LockCapabilities(online=False, offline_codes=True, native_scheduling=False)
PROGRAMMING_CODE = "90211476"


@pytest.fixture
def group(clock):
    return KeyGroup.generate(uuid4(), clock.now - timedelta(days=1))


def key_of(byte):
    """A fixed key source for ``KeyGroup.generate``: every byte ``byte``."""
    return lambda size: bytes([byte]) * size


def cabin(clock, group, path=None):
    cloud = VirtualCloud(clock, path=path)
    cloud.install("cabin", "Cabin keypad", OFFLINE)
    cloud.load_offline_key("cabin", group, PROGRAMMING_CODE)
    return cloud


def stay(clock):
    start = clock.now + timedelta(days=1)
    return TimeWindow(start, start + timedelta(days=3))


def test_an_offline_code_opens_only_within_its_window(clock, group):
    cloud = cabin(clock, group)
    issued = issue_offline_code(group, stay(clock))
    assert not cloud.enter(
        "cabin", issued.code, issued.issued.starts_at - timedelta(hours=1)
    ).opened
    opened = cloud.enter("cabin", issued.code, issued.issued.starts_at + timedelta(minutes=1))
    assert opened.opened
    assert not cloud.enter("cabin", issued.code, issued.issued.ends_at + timedelta(hours=1)).opened


def test_another_groups_code_never_opens(clock):
    # Fixed keys and ids: fresh random ones let a stranger's code open about once in 10**5
    # runs (a stranger key built from 36283 does), which is chance, not the rule under test.
    group = KeyGroup.generate(UUID(int=1), clock.now - timedelta(days=1), token_bytes=key_of(1))
    cloud = cabin(clock, group)
    stranger = KeyGroup.generate(UUID(int=2), group.epoch, token_bytes=key_of(2))
    issued = issue_offline_code(stranger, stay(clock))
    assert not cloud.enter(
        "cabin", issued.code, issued.issued.starts_at + timedelta(hours=1)
    ).opened


def test_the_keypad_remembers_blocks_and_short_pins_across_restarts(clock, group, tmp_path):
    path = tmp_path / "virtual-locks.json"
    issued = issue_offline_code(group, stay(clock))
    inside = issued.issued.starts_at + timedelta(hours=2)
    cloud = cabin(clock, group, path)
    assert cloud.enter("cabin", issued.code, inside).opened
    assert cloud.register_short_pin("cabin", "730519", inside + timedelta(seconds=4)).accepted
    restarted = VirtualCloud(clock, path=path)
    assert restarted.enter("cabin", "730519", inside + timedelta(hours=5)).opened
    sequence = f"*{PROGRAMMING_CODE}#128#{issued.code}#"
    assert restarted.program("cabin", sequence, inside + timedelta(hours=6)).accepted
    again = VirtualCloud(clock, path=path)
    assert not again.enter("cabin", issued.code, inside + timedelta(hours=7)).opened
    assert "offline_firmware" in path.read_text()
    assert issued.code not in path.read_text()


def test_a_short_pin_without_a_recent_opening_is_an_ordinary_wrong_entry(clock, group):
    """Spec §9.2: only the first entry within 10 s of an offline-code opening registers."""
    cloud = cabin(clock, group)
    refused = cloud.register_short_pin("cabin", "730519", clock.now)
    assert not refused.accepted
    assert refused.reason == "wrong code"
    assert not cloud.enter("cabin", "730519", clock.now).opened


def test_a_short_pin_answers_why_it_was_not_registered(clock, group):
    cloud = cabin(clock, group)
    issued = issue_offline_code(group, stay(clock))
    inside = issued.issued.starts_at + timedelta(hours=2)
    assert cloud.enter("cabin", issued.code, inside).opened
    refused = cloud.register_short_pin("cabin", "123456", inside + timedelta(seconds=3))
    assert (refused.accepted, refused.reason) == (False, "pin too simple")


def test_provisioning_loads_the_key_into_virtual_locks_without_spending_the_export(runtime, clock):
    owner = make_owner(runtime)
    lock = make_lock(runtime, owner, "cabin keypad", OFFLINE)
    offline_codes.create_key_group(runtime.uow(), owner, "cabin", (lock.id,))
    providers = ProviderRegistry([VirtualLockProvider(VirtualCloud(clock))])
    loaded = offline_codes.provision_virtual_locks(runtime.uow(), owner, providers, "cabin")
    assert loaded == ["cabin keypad"]
    issued = offline_codes.issue_offline_grant(runtime.uow(), owner, "cabin", stay(clock), "Jake")
    moment = issued.issued.starts_at + timedelta(hours=1)
    assert providers.virtual_cloud.enter(lock.external_id, issued.code, moment).opened
    # The key went to this installation's own simulated lock, not to a person: the one
    # export is still there for the technician, and provisioning again works after it.
    offline_codes.export_key_group(runtime.uow(), owner, "cabin")
    assert offline_codes.provision_virtual_locks(runtime.uow(), owner, providers, "cabin")
    with pytest.raises(InvalidRequest, match="exported already"):
        offline_codes.export_key_group(runtime.uow(), owner, "cabin")


def test_devices_installed_after_the_file_exists_survive_the_next_operation(clock, group, tmp_path):
    path = tmp_path / "virtual-locks.json"
    cloud = cabin(clock, group, path)  # writes the file
    cloud.install("front", "Front door", LockCapabilities())
    assert cloud.has_device("front")
    assert VirtualCloud(clock, path=path).has_device("front")
