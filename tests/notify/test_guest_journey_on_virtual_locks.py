"""End to end with the real reconciler on virtual locks: booking, code on the lock, email, door.

No stand-ins: the reconciler programs the virtual cloud and announces ``GrantCodesSet``, the
message loop sends to a real aiosmtpd server, and the emailed code opens the virtual door.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.notify.loop import run_messages_once
from doorcode.services import offline_codes
from doorcode.services.grants import reveal_code
from doorcode.services.messages import list_messages
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    cancel_reservation,
    record_reservation,
)
from doorcode.store.message_repository import MessageFilter
from tests.builders import make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, reconcile

IN, OUT = date(2026, 12, 4), date(2026, 12, 7)
ADA = Guest("Ada Lovelace", "ada@example.org", locale="en-GB")


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


def book(runtime, owner, prop, check_in=IN, check_out=OUT, status=ReservationStatus.CONFIRMED):
    details = ReservationDetails("test", "B-1", prop.id, status, Stay(check_in, check_out), ADA)
    return record_reservation(runtime.uow(), owner, details)


def text_of(received):
    return received.message.get_body(("plain",)).get_content()


def pass_and_send(runtime, channels):
    reconcile(runtime)
    run_messages_once(runtime, channels)


def test_a_booking_reaches_the_lock_then_the_inbox_and_the_emailed_code_opens_the_door(
    runtime, clock, owner, smtp_server, channels
):
    door = make_lock(runtime, owner, "Loft door")
    loft = make_property(runtime, owner, "Loft", locks=[door], time_zone="America/New_York")
    booked = book(runtime, owner, loft)
    pass_and_send(runtime, channels)
    assert smtp_server.received == []  # the code is not on the lock yet: too early
    clock.now = datetime(2026, 12, 2, 15, tzinfo=UTC)  # 10:00 in New York, two days before
    pass_and_send(runtime, channels)
    [email] = smtp_server.received
    code = reveal_code(runtime.uow(), owner, booked.grant.id)
    assert code in text_of(email)
    assert "Friday, 4 December 2026, 15:00" in text_of(email)
    check_in = datetime(2026, 12, 4, 20, tzinfo=UTC)
    assert (
        not cloud_of(runtime).enter(door.external_id, code, check_in - timedelta(minutes=5)).opened
    )
    assert cloud_of(runtime).enter(door.external_id, code, check_in + timedelta(minutes=5)).opened


def test_moved_dates_reach_the_lock_and_the_guest_hears_the_new_window(
    runtime, clock, owner, smtp_server, channels
):
    door = make_lock(runtime, owner, "Loft door")
    loft = make_property(runtime, owner, "Loft", locks=[door], time_zone="America/New_York")
    book(runtime, owner, loft)
    clock.now = datetime(2026, 12, 2, 15, tzinfo=UTC)
    pass_and_send(runtime, channels)
    book(runtime, owner, loft, check_in=date(2026, 12, 3))
    pass_and_send(runtime, channels)
    _first, second = smtp_server.received
    assert "Thursday, 3 December 2026, 15:00" in text_of(second)
    assert second.message["Subject"] == "New access details for Loft"


def test_a_cancellation_takes_the_code_off_the_lock_and_cancels_the_message(
    runtime, clock, owner, smtp_server, channels
):
    door = make_lock(runtime, owner, "Loft door")
    loft = make_property(runtime, owner, "Loft", locks=[door], time_zone="America/New_York")
    booked = book(runtime, owner, loft)
    clock.now = datetime(2026, 12, 2, 10, tzinfo=UTC)  # inside the lead time, before the send
    pass_and_send(runtime, channels)
    assert cloud_of(runtime).codes_on(door.external_id)
    cancel_reservation(runtime.uow(), owner, booked.reservation.id)
    pass_and_send(runtime, channels)
    assert cloud_of(runtime).codes_on(door.external_id) == []
    [entry] = list_messages(runtime.uow(), owner, MessageFilter())
    assert entry.status == "cancelled"
    clock.now = datetime(2026, 12, 2, 15, tzinfo=UTC)
    pass_and_send(runtime, channels)
    assert smtp_server.received == []


def test_a_cabin_guest_gets_the_offline_code_by_email_and_it_opens_the_offline_keypad(
    runtime, clock, owner, smtp_server, channels
):
    offline = LockCapabilities(online=False, offline_codes=True, native_scheduling=False)
    keypad = make_lock(runtime, owner, "Cabin keypad", offline)
    cabin = make_property(runtime, owner, "Cabin", locks=[keypad], time_zone="America/Denver")
    offline_codes.create_key_group(runtime.uow(), owner, "cabin", (keypad.id,))
    offline_codes.provision_virtual_locks(runtime.uow(), owner, runtime.providers, "cabin")
    booked = book(runtime, owner, cabin)
    clock.now = datetime(2026, 12, 2, 17, tzinfo=UTC)  # 10:00 in Denver, two days before
    pass_and_send(runtime, channels)
    [email] = smtp_server.received
    with runtime.uow() as uow:
        [lock_code] = uow.grants.get(owner.organisation_id, booked.grant.id).lock_codes
        code = uow.offline.offline_code_of(lock_code)
    assert f"Cabin keypad: {code}" in text_of(email)
    assert f"door code: {code}" in text_of(email)
    assert reveal_code(runtime.uow(), owner, booked.grant.id) not in text_of(email)
    check_in = datetime(2026, 12, 4, 22, tzinfo=UTC)  # 15:00 in Denver
    assert cloud_of(runtime).enter(keypad.external_id, code, check_in + timedelta(minutes=5)).opened
