"""Offline codes through the service: key groups, export once, issue, check, block, rotate."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.offline import KeyGroup, Keypad
from doorcode.domain.windows import TimeWindow
from doorcode.services import offline_codes
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import InvalidRequest, NotFound, PermissionDenied
from doorcode.services.grants import regenerate_code, revoke_grant
from doorcode.store.repositories import GrantFilter
from tests.builders import make_lock, make_owner, make_property

OFFLINE = LockCapabilities(online=False, offline_codes=True, native_scheduling=False)


@pytest.fixture
def owner(any_runtime):
    return make_owner(any_runtime)


@pytest.fixture
def cabin_group(any_runtime, owner):
    keypad = make_lock(any_runtime, owner, "cabin keypad", OFFLINE)
    make_property(any_runtime, owner, "Cabin", locks=[keypad], time_zone="America/Denver")
    return offline_codes.create_key_group(any_runtime.uow(), owner, "cabin", (keypad.id,))


def stay(clock, first_day=2, nights=3):
    start = clock.now.replace(hour=22, minute=0) + timedelta(days=first_day)
    return TimeWindow(start, start + timedelta(days=nights, hours=-4))


def issue(runtime, owner, window, group="cabin"):
    return offline_codes.issue_offline_grant(runtime.uow(), owner, group, window, "Jake")


def test_a_code_issued_by_the_service_opens_a_lock_that_only_knows_the_exported_key(
    any_runtime, owner, cabin_group, clock
):
    window = stay(clock)
    issued = issue(any_runtime, owner, window)
    export = offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    lock_side = KeyGroup(
        bytes.fromhex(export.key_hex), UUID(export.group_uuid), export.epoch, export.digits
    )
    keypad = Keypad(lock_side, export.programming_code)
    assert issued.issued.covers(window)
    assert len(issued.code) == 10
    assert not keypad.enter(issued.code, window.starts_at - timedelta(hours=1)).opened
    assert keypad.enter(issued.code, window.starts_at + timedelta(minutes=1)).opened


def test_the_key_is_exported_once_and_only_to_an_owner(any_runtime, owner, cabin_group):
    manager = Caller(owner.organisation_id, "test:manager", Role.MANAGER)
    with pytest.raises(PermissionDenied):
        offline_codes.export_key_group(any_runtime.uow(), manager, "cabin")
    offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    with pytest.raises(InvalidRequest, match="exported already"):
        offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")


def test_secrets_never_reach_the_database_in_clear_or_the_audit_log(
    any_runtime, owner, cabin_group, clock
):
    issued = issue(any_runtime, owner, stay(clock))
    export = offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    with any_runtime.engine.connect() as connection:
        rows = [
            str(row)
            for table in ("offline_key_groups", "grants", "events")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        ]
    for secret in (export.key_hex, export.programming_code, issued.code):
        assert all(secret not in row for row in rows)


def test_two_grants_for_the_same_window_get_different_codes(any_runtime, owner, cabin_group, clock):
    first, second = issue(any_runtime, owner, stay(clock)), issue(any_runtime, owner, stay(clock))
    assert first.code != second.code
    assert second.issued.covers(first.issued)


def test_check_tells_the_window_whose_code_it_is_and_whether_it_opens(
    any_runtime, owner, cabin_group, clock
):
    window = stay(clock)
    issued = issue(any_runtime, owner, window)
    inside = window.starts_at + timedelta(hours=1)
    found = offline_codes.check_offline_code(any_runtime.uow(), owner, "cabin", issued.code, inside)
    assert (found.window, found.opens_at, found.grant_id) == (issued.issued, True, issued.grant.id)
    before = offline_codes.check_offline_code(
        any_runtime.uow(), owner, "cabin", issued.code, window.starts_at - timedelta(days=1)
    )
    assert not before.opens_at
    typo = issued.code[:-1] + str((int(issued.code[-1]) + 1) % 10)
    wrong = offline_codes.check_offline_code(any_runtime.uow(), owner, "cabin", typo, inside)
    assert wrong.grant_id is None


def test_revoking_an_offline_grant_puts_its_code_on_the_block_list(
    any_runtime, owner, cabin_group, clock
):
    issued = issue(any_runtime, owner, stay(clock))
    revoke_grant(any_runtime.uow(), owner, issued.grant.id, "guest cancelled")
    pending = offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin")
    assert [block.grant_id for block, _ in pending] == [issued.grant.id]
    sequence = pending[0][1]
    assert sequence.keys.endswith(f"#128#{issued.code}#")
    found = offline_codes.check_offline_code(
        any_runtime.uow(), owner, "cabin", issued.code, issued.issued.starts_at
    )
    assert found.blocked
    assert not found.opens_at
    again = issue(any_runtime, owner, issued.requested)
    assert again.code != issued.code


def test_blocking_a_code_revokes_its_grant_and_the_sequence_blocks_it_at_the_lock(
    any_runtime, owner, cabin_group, clock
):
    issued = issue(any_runtime, owner, stay(clock))
    export = offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    sequence = offline_codes.block_offline_code(
        any_runtime.uow(), owner, "cabin", issued.code
    ).sequence
    with any_runtime.uow() as uow:
        assert uow.grants.get(owner.organisation_id, issued.grant.id).revoked_at == clock.now
    lock_side = KeyGroup(
        bytes.fromhex(export.key_hex), UUID(export.group_uuid), export.epoch, export.digits
    )
    keypad = Keypad(lock_side, export.programming_code)
    inside = issued.issued.starts_at + timedelta(hours=1)
    assert keypad.program(sequence.keys, inside).accepted
    assert not keypad.enter(issued.code, inside).opened


def test_rotation_revokes_every_outstanding_code_and_allows_a_new_export(
    any_runtime, owner, cabin_group, clock
):
    issued = issue(any_runtime, owner, stay(clock))
    offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    rotated = offline_codes.rotate_key_group(any_runtime.uow(), owner, "cabin")
    assert rotated.key_version == 2
    with any_runtime.uow() as uow:
        assert uow.grants.get(owner.organisation_id, issued.grant.id).revoked_at is not None
    export = offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    lock_side = KeyGroup(
        bytes.fromhex(export.key_hex), UUID(export.group_uuid), export.epoch, export.digits
    )
    assert (
        not Keypad(lock_side, export.programming_code)
        .enter(issued.code, issued.issued.starts_at + timedelta(hours=1))
        .opened
    )
    assert offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin") == []


def test_online_only_locks_and_locks_of_another_group_are_refused(any_runtime, owner, cabin_group):
    online = make_lock(any_runtime, owner, "smart lock")
    with pytest.raises(InvalidRequest, match="does not check offline codes"):
        offline_codes.create_key_group(any_runtime.uow(), owner, "other", (online.id,))
    with pytest.raises(InvalidRequest, match="already belongs to a key group"):
        offline_codes.create_key_group(any_runtime.uow(), owner, "other", ("cabin keypad",))
    with pytest.raises(NotFound):
        offline_codes.create_key_group(any_runtime.uow(), owner, "other", ("no such lock",))


def test_an_offline_code_cannot_be_regenerated(any_runtime, owner, cabin_group, clock):
    issued = issue(any_runtime, owner, stay(clock))
    with pytest.raises(InvalidRequest, match="issue a new one"):
        regenerate_code(any_runtime.uow(), owner, issued.grant.id)


def test_windows_no_code_can_carry_are_refused(any_runtime, owner, cabin_group, clock):
    from doorcode.domain.offline import OfflineWindowUnsupported

    year_and_more = TimeWindow(clock.now + timedelta(days=1), clock.now + timedelta(days=400))
    with pytest.raises(OfflineWindowUnsupported, match="365 days"):
        issue(any_runtime, owner, year_and_more)
    before_epoch = TimeWindow(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))
    with pytest.raises(OfflineWindowUnsupported, match="before the group's epoch"):
        issue(any_runtime, owner, before_epoch)


def test_a_window_before_the_epoch_is_refused_naming_the_epoch(any_runtime, owner, cabin_group):
    group = cabin_group
    from doorcode.domain.offline import OfflineWindowUnsupported

    early = TimeWindow(group.epoch - timedelta(days=2), group.epoch + timedelta(days=1))
    with pytest.raises(OfflineWindowUnsupported) as refused:
        offline_codes.issue_offline_grant(any_runtime.uow(), owner, "cabin", early, "Jake")
    assert f"{group.epoch:%Y-%m-%d %H:%M} UTC" in str(refused.value)
    assert "MST" in str(refused.value)  # and on the cabin's own clock
    with any_runtime.uow() as uow:
        assert uow.grants.search(owner.organisation_id, GrantFilter()) == []


def test_a_block_marked_as_typed_leaves_the_list_once(any_runtime, owner, cabin_group, clock):
    issued = issue(any_runtime, owner, stay(clock))
    blocked = offline_codes.block_offline_code(any_runtime.uow(), owner, "cabin", issued.code)
    [(block, _)] = offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin")
    assert block.id == blocked.block_id
    offline_codes.mark_block_entered(any_runtime.uow(), owner, "cabin", blocked.block_id)
    assert offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin") == []
    with pytest.raises(InvalidRequest, match="already"):
        offline_codes.mark_block_entered(any_runtime.uow(), owner, "cabin", blocked.block_id)
    with pytest.raises(NotFound):
        offline_codes.mark_block_entered(any_runtime.uow(), owner, "cabin", "blk_nothing")
