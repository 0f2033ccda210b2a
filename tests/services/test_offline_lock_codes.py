"""Guest grants on keypads that never reach the network carry their key group's offline code."""

from datetime import date, timedelta
from uuid import UUID

import pytest

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.offline import KeyGroup, Keypad
from doorcode.domain.windows import TimeWindow
from doorcode.services import offline_codes
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import Grant
from tests.builders import book, make_lock, make_owner, make_property

OFFLINE = LockCapabilities(online=False, offline_codes=True, native_scheduling=False)
IN, OUT = date(2026, 12, 4), date(2026, 12, 7)


@pytest.fixture
def cabin(any_runtime):
    owner = make_owner(any_runtime)
    keypad = make_lock(any_runtime, owner, "cabin keypad", OFFLINE)
    shed = make_lock(any_runtime, owner, "shed keypad", OFFLINE)
    front = make_lock(any_runtime, owner, "cabin smart lock")
    prop = make_property(
        any_runtime, owner, "Cabin", locks=[keypad, shed, front], time_zone="America/Denver"
    )
    offline_codes.create_key_group(any_runtime.uow(), owner, "cabin", (keypad.id, shed.id))
    export = offline_codes.export_key_group(any_runtime.uow(), owner, "cabin")
    lock_side = KeyGroup(
        bytes.fromhex(export.key_hex), UUID(export.group_uuid), export.epoch, export.digits
    )
    return owner, prop, {"keypad": keypad, "shed": shed, "front": front}, lock_side, export


def offline_codes_of(runtime, grant_id):
    with runtime.uow() as uow:
        grant = uow.session.get(Grant, grant_id)
        return {lc.lock_id: uow.offline.offline_code_of(lc) for lc in grant.lock_codes}


def test_a_guest_gets_one_offline_code_for_every_keypad_of_the_group(any_runtime, cabin):
    owner, prop, locks, lock_side, export = cabin
    grant = book(any_runtime, owner, prop, "B-1", IN, OUT).grant
    codes = offline_codes_of(any_runtime, grant.id)
    assert codes[locks["front"].id] is None
    offline = codes[locks["keypad"].id]
    assert offline == codes[locks["shed"].id]
    assert len(offline) == 10
    keypad = Keypad(lock_side, export.programming_code)
    assert keypad.enter(offline, grant.starts_at + timedelta(minutes=1)).opened
    assert not keypad.enter(offline, grant.ends_at + timedelta(hours=1)).opened


def test_moved_dates_give_a_new_offline_code_and_block_the_old_one(any_runtime, cabin):
    owner, prop, locks, lock_side, export = cabin
    first = book(any_runtime, owner, prop, "B-1", IN, OUT).grant
    old = offline_codes_of(any_runtime, first.id)[locks["keypad"].id]
    moved = book(any_runtime, owner, prop, "B-1", IN + timedelta(days=7), OUT + timedelta(days=7))
    new = offline_codes_of(any_runtime, moved.grant.id)[locks["keypad"].id]
    assert new != old
    pending = offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin")
    assert [sequence.keys.endswith(f"#{old}#") for _, sequence in pending] == [True]
    keypad = Keypad(lock_side, export.programming_code)
    keypad.program(pending[0][1].keys, first.starts_at)
    assert not keypad.enter(old, first.starts_at + timedelta(hours=1)).opened
    assert keypad.enter(new, moved.grant.starts_at + timedelta(hours=1)).opened


def test_the_same_dates_again_keep_the_offline_code(any_runtime, cabin):
    owner, prop, _locks, _, _ = cabin
    grant = book(any_runtime, owner, prop, "B-1", IN, OUT, guest="Ada").grant
    before = offline_codes_of(any_runtime, grant.id)
    book(any_runtime, owner, prop, "B-1", IN, OUT, guest="Ada Byron")
    assert offline_codes_of(any_runtime, grant.id) == before
    assert offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin") == []


def test_a_cancelled_stay_puts_its_offline_code_on_the_block_list(any_runtime, cabin):
    owner, prop, locks, _, _ = cabin
    outcome = book(any_runtime, owner, prop, "B-1", IN, OUT)
    code = offline_codes_of(any_runtime, outcome.grant.id)[locks["keypad"].id]
    cancel_reservation(any_runtime.uow(), owner, outcome.reservation.id)
    pending = offline_codes.pending_blocks(any_runtime.uow(), owner, "cabin")
    assert [block.grant_id for block, _ in pending] == [outcome.grant.id]
    assert pending[0][1].keys.endswith(f"#{code}#")
    assert offline_codes_of(any_runtime, outcome.grant.id)[locks["keypad"].id] is None


def test_two_guests_with_the_same_dates_get_different_offline_codes(any_runtime, cabin):
    owner, prop, locks, _, _ = cabin
    other = make_property(
        any_runtime, owner, "Cabin 2", locks=[locks["keypad"]], time_zone="America/Denver"
    )
    one = book(any_runtime, owner, prop, "B-1", IN, OUT).grant
    two = book(any_runtime, owner, other, "B-2", IN, OUT).grant
    assert (
        offline_codes_of(any_runtime, one.id)[locks["keypad"].id]
        != offline_codes_of(any_runtime, two.id)[locks["keypad"].id]
    )


def test_an_operators_offline_code_never_repeats_a_guests_for_the_same_window(any_runtime, cabin):
    owner, prop, locks, _, _ = cabin
    guest = book(any_runtime, owner, prop, "B-1", IN, OUT).grant
    guest_code = offline_codes_of(any_runtime, guest.id)[locks["keypad"].id]
    window = TimeWindow(guest.starts_at, guest.ends_at)
    issued = offline_codes.issue_offline_grant(any_runtime.uow(), owner, "cabin", window, "Staff")
    assert issued.code != guest_code
