"""Guest messages from booking to inbox, on SQLite and PostgreSQL, with real SMTP and fake clouds.

These tests look at the message rules, so ``codes_on_every_lock`` records the ``GrantCodesSet``
event directly instead of running the reconciler; the whole journey through the real
reconciler and virtual locks is in ``test_guest_journey_on_virtual_locks.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from doorcode.domain.grants import GrantKind
from doorcode.domain.messages import MAX_ATTEMPTS
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.domain.windows import TimeWindow
from doorcode.notify import dispatcher
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.channels import Channels
from doorcode.notify.errors import TransientFailure
from doorcode.notify.loop import run_messages_once
from doorcode.notify.outbox import CURSOR
from doorcode.services.alerts import list_open_alerts
from doorcode.services.errors import InvalidRequest
from doorcode.services.grants import ManualGrantRequest, create_manual_grant, reveal_code
from doorcode.services.guidebook import open_guidebook
from doorcode.services.message_rules import set_rules
from doorcode.services.messages import announce_backup_code, list_messages, retry_delivery
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    cancel_reservation,
    record_reservation,
)
from doorcode.store.message_repository import MessageFilter
from tests.builders import guide_token_of, make_owner, make_property
from tests.notify.servers import twilio_error

IN, OUT = date(2026, 12, 4), date(2026, 12, 7)
ADA = Guest("Ada Lovelace", "ada@example.org", locale="en-GB")


@pytest.fixture
def owner(any_runtime):
    return make_owner(any_runtime)


@pytest.fixture
def loft(any_runtime, owner):
    """A property in New York: 15:00 local is 20:00 UTC, so a wrong clock shows."""
    return make_property(any_runtime, owner, "Brooklyn Loft", time_zone="America/New_York")


def book(runtime, owner, prop, ref, guest=ADA, check_in=IN, check_out=OUT, **extra):
    details = ReservationDetails(
        source="test",
        external_id=ref,
        property_ref=prop.id,
        status=extra.get("status", ReservationStatus.CONFIRMED),
        stay=Stay(check_in, check_out),
        guest=guest,
    )
    return record_reservation(runtime.uow(), owner, details)


def codes_on_every_lock(runtime, caller, grant_id):
    """Stands in for lock sync's reconciler: the grant's current version is on every lock."""
    with runtime.uow() as uow:
        grant = uow.grants.get(caller.organisation_id, grant_id)
        uow.events.record(
            grant.organisation_id,
            at=uow.now,
            actor="sync:stand-in",
            kind="GrantCodesSet",
            subject=("grant", grant.id),
            details={"after": {"version": grant.version}},
        )
        uow.commit()


def log(runtime, caller, **which):
    return list_messages(runtime.uow(), caller, MessageFilter(**which))


def alerts(runtime, caller, reservation_id):
    found = list_open_alerts(runtime.uow(), caller.organisation_id, ("reservation", reservation_id))
    return {alert.kind: alert.message for alert in found}


def text_of(received):
    return received.message.get_body(("plain",)).get_content()


def html_of(received):
    return received.message.get_body(("html",)).get_content()


def at_due_time(clock, entry):
    clock.now = max(clock.now, entry.message.due_at)


def test_e2e_confirmed_booking_then_code_on_every_lock_emails_the_code_and_local_check_in_time(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    """The message rules end to end, with the reconciler's announcement recorded directly."""
    booked = book(any_runtime, owner, loft, "B-1")
    run_messages_once(any_runtime, channels)
    [waiting] = log(any_runtime, owner)
    assert (waiting.status, waiting.message.purpose) == ("scheduled", "check_in_instructions")
    # Two days before check-in, 10:00 on the property's clock (New York, UTC-5).
    assert waiting.message.due_at == datetime(2026, 12, 2, 15, tzinfo=UTC)

    clock.now = waiting.message.due_at
    run_messages_once(any_runtime, channels)
    assert smtp_server.received == []  # due, but the code is not on the locks yet
    assert log(any_runtime, owner)[0].message.reason == "waiting for the code to be on every lock"

    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)

    [email] = smtp_server.received
    code = reveal_code(any_runtime.uow(), owner, booked.grant.id)
    assert email.rcpt_tos == ["ada@example.org"]
    assert email.message["Subject"] == "Your door code for Brooklyn Loft"
    assert code in text_of(email)
    assert code in html_of(email)
    assert "Friday, 4 December 2026, 15:00" in text_of(email)  # en-GB, New York time
    assert "Monday, 7 December 2026, 11:00" in text_of(email)
    assert "20:00" not in text_of(email)
    [sent] = log(any_runtime, owner)
    assert (sent.status, sent.delivery.channel, sent.delivery.attempts) == ("sent", "email", 1)
    assert sent.delivery.provider_message_id == email.message["Message-ID"]
    assert sent.delivery.template == "built-in:en"

    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 1


def test_the_link_in_a_message_opens_that_guests_guidebook(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    """The database keeps the token only encrypted; the message still carries it whole."""
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, channels)

    [email] = smtp_server.received
    token = guide_token_of(any_runtime, booked.reservation)
    link = f"{any_runtime.settings.public_url}/guide/{token}"
    assert link in text_of(email)
    assert f'href="{link}"' in html_of(email)
    [sent_token] = set(re.findall(r"/guide/([A-Za-z0-9_-]+)", text_of(email)))
    view = open_guidebook(any_runtime.uow(), sent_token, "203.0.113.7")
    assert (view.guest_name, view.property_name) == ("Ada Lovelace", "Brooklyn Loft")


def test_changed_dates_send_a_new_message_with_the_new_window(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 1

    moved = book(any_runtime, owner, loft, "B-1", check_in=date(2026, 12, 5), check_out=OUT)
    assert moved.grant.version == 2
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 1  # the new window is not on the locks yet
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)

    first, second = smtp_server.received
    assert second.message["Subject"] == "New access details for Brooklyn Loft"
    assert "Saturday, 5 December 2026, 15:00" in text_of(second)
    assert "Friday, 4 December" not in text_of(second)
    assert first.message["Message-ID"] != second.message["Message-ID"]
    purposes = sorted(
        (e.message.purpose, e.message.grant_version, e.status) for e in log(any_runtime, owner)
    )
    assert purposes == [("access_changed", 2, "sent"), ("check_in_instructions", 1, "sent")]


def test_a_change_before_the_instructions_went_out_replaces_them(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    run_messages_once(any_runtime, channels)
    book(any_runtime, owner, loft, "B-1", check_in=date(2026, 12, 10), check_out=date(2026, 12, 12))
    run_messages_once(any_runtime, channels)
    by_version = {e.message.grant_version: e for e in log(any_runtime, owner)}
    assert by_version[1].status == "cancelled"
    assert by_version[1].message.reason == "superseded by version 2"
    assert by_version[2].message.purpose == "check_in_instructions"
    assert by_version[2].message.due_at == datetime(2026, 12, 8, 15, tzinfo=UTC)
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    clock.now = datetime(2026, 12, 8, 15, tzinfo=UTC)
    run_messages_once(any_runtime, channels)
    [email] = smtp_server.received
    assert "Thursday, 10 December 2026" in text_of(email)


def test_a_cancelled_booking_cancels_its_pending_message(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    assert log(any_runtime, owner)[0].status == "scheduled"

    cancel_reservation(any_runtime.uow(), owner, booked.reservation.id, "guest cancelled")
    run_messages_once(any_runtime, channels)
    [entry] = log(any_runtime, owner)
    assert entry.status == "cancelled"
    assert "revoked" in entry.message.reason
    clock.now = entry.message.due_at + timedelta(hours=1)
    run_messages_once(any_runtime, channels)
    assert smtp_server.received == []


def test_a_message_never_carries_another_guests_data(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    guests = {
        "B-1": Guest("Ada Lovelace", "ada@example.org"),
        "B-2": Guest("Grace Hopper", "grace@example.org", locale="fr"),
        "B-3": Guest("Alan Turing", "alan@example.org", locale="de"),
    }
    stays = {
        "B-1": (IN, OUT),
        "B-2": (OUT, date(2026, 12, 9)),
        "B-3": (date(2026, 12, 9), date(2026, 12, 12)),
    }
    booked = {
        ref: book(any_runtime, owner, loft, ref, guest, *stays[ref])
        for ref, guest in guests.items()
    }
    for outcome in booked.values():
        codes_on_every_lock(any_runtime, owner, outcome.grant.id)
    clock.now = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # all three are due, none is over
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 3

    secrets = {}
    with any_runtime.uow() as uow:
        for ref, outcome in booked.items():
            reservation = uow.reservations.get(owner.organisation_id, outcome.reservation.id)
            code = reveal_code(any_runtime.uow(), owner, outcome.grant.id)
            secrets[ref] = (
                guests[ref].name,
                guests[ref].email,
                code,
                uow.reservations.guide_token_of(reservation),
            )
    for received in smtp_server.received:
        [ref] = [r for r, g in guests.items() if received.rcpt_tos == [g.email]]
        body = text_of(received) + html_of(received) + str(received.message["To"])
        for other, values in secrets.items():
            for value in values:
                assert (value in body) == (other == ref), (ref, other)


class ProcessDied(BaseException):
    """What a crash looks like from inside: nothing after it runs."""


class DiesAfterSending(Channel):
    """Sends for real, then the process dies before the outcome can be recorded."""

    def __init__(self, inner: Channel) -> None:
        self.inner = inner
        self.name = inner.name

    def send(self, message: OutgoingMessage) -> str:
        self.inner.send(message)
        raise ProcessDied


def test_a_crash_between_sending_and_recording_never_sends_twice(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    dying = Channels({name: DiesAfterSending(channel) for name, channel in channels.items()})
    with pytest.raises(ProcessDied):
        run_messages_once(any_runtime, dying)
    assert len(smtp_server.received) == 1
    assert log(any_runtime, owner)[0].status == "sending"

    run_messages_once(any_runtime, channels)  # restarted at once: the claim is still fresh
    clock.advance(minutes=11)  # the claim's lease is over: the sender is surely gone
    run_messages_once(any_runtime, channels)
    run_messages_once(any_runtime, channels)

    assert len(smtp_server.received) == 1
    [entry] = log(any_runtime, owner)
    assert entry.status == "unknown"
    assert "not sent again" in entry.delivery.last_error
    assert [a.outcome for a in entry.delivery.attempt_log] == ["unknown"]
    assert "GuestMessageNotDelivered" in alerts(any_runtime, owner, booked.reservation.id)

    retry_delivery(any_runtime.uow(), owner, entry.delivery.id)  # an operator checked: resend
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 2


PHONE_GUEST = Guest("Inês Carvalho", None, "+351 912 345 678", "pt-PT")


def test_a_provider_5xx_is_retried_with_backoff(any_runtime, clock, owner, loft, cloud, channels):
    booked = book(any_runtime, owner, loft, "B-1", PHONE_GUEST)
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    cloud.answers["twilio"].append(twilio_error(500, 20500, "Internal Server Error"))
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, channels)

    entries = {e.delivery.channel: e for e in log(any_runtime, owner)}
    assert entries["whatsapp"].status == "sent"
    sms = entries["sms"]
    assert (sms.status, sms.delivery.attempts) == ("queued", 1)
    assert sms.delivery.last_error == "Twilio answered 500 (error 20500: Internal Server Error)"
    assert sms.delivery.next_attempt_at == clock.now + timedelta(minutes=1)

    run_messages_once(any_runtime, channels)
    assert len(cloud.requests) == 2  # not due again yet
    clock.advance(minutes=1)
    run_messages_once(any_runtime, channels)
    sms = {e.delivery.channel: e for e in log(any_runtime, owner)}["sms"]
    assert (sms.status, sms.delivery.attempts) == ("sent", 2)
    assert [a.outcome for a in sms.delivery.attempt_log] == ["retry", "sent"]
    assert sms.delivery.provider_message_id.startswith("SM")


def test_a_provider_4xx_fails_with_its_reason_and_no_clear_number(
    any_runtime, clock, owner, loft, cloud, channels
):
    booked = book(any_runtime, owner, loft, "B-1", PHONE_GUEST)
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    message = "The 'To' number +351912345678 is not a valid phone number."
    cloud.answers["twilio"].append(twilio_error(400, 21211, message))
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, channels)
    clock.advance(hours=2)
    run_messages_once(any_runtime, channels)

    sms = {e.delivery.channel: e for e in log(any_runtime, owner)}["sms"]
    assert sms.status == "failed"
    assert sms.delivery.attempts == 1
    assert sms.delivery.last_error == (
        "Twilio answered 400 (error 21211: The 'To' number +35*******678 is not a valid "
        "phone number.)"
    )
    assert (
        "+351912345678"
        not in alerts(any_runtime, owner, booked.reservation.id)["GuestMessageNotDelivered"]
    )
    assert sum("Messages.json" in r.path for r in cloud.requests) == 1


def test_missing_contact_details_are_a_warning_on_the_reservation_not_a_crash(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1", Guest("Walk-in Guest"))
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    assert (
        "no email address or phone number"
        in alerts(any_runtime, owner, booked.reservation.id)["GuestUnreachable"]
    )
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, channels)
    [entry] = log(any_runtime, owner)
    assert entry.status == "scheduled"
    assert entry.message.reason == "waiting for the guest's email address or phone number"

    book(any_runtime, owner, loft, "B-1", Guest("Walk-in Guest", "walk-in@example.org"))
    run_messages_once(any_runtime, channels)
    assert alerts(any_runtime, owner, booked.reservation.id) == {}
    assert smtp_server.received[0].rcpt_tos == ["walk-in@example.org"]


def test_a_code_still_missing_hours_before_check_in_raises_an_alert_instead(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    run_messages_once(any_runtime, channels)
    clock.now = datetime(2026, 12, 4, 13, 59, tzinfo=UTC)  # check-in 20:00 UTC, minus 6 h
    run_messages_once(any_runtime, channels)
    assert alerts(any_runtime, owner, booked.reservation.id) == {}
    clock.advance(minutes=1)
    run_messages_once(any_runtime, channels)
    warning = alerts(any_runtime, owner, booked.reservation.id)["GuestMessageWaitingForCode"]
    assert "not on every lock" in warning
    assert smtp_server.received == []

    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 1
    assert alerts(any_runtime, owner, booked.reservation.id) == {}


def test_a_late_booking_is_told_as_soon_as_its_code_is_set_unless_the_rules_say_not_to(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    clock.now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    tonight = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, tonight.grant.id)
    run_messages_once(any_runtime, channels)
    assert len(smtp_server.received) == 1

    set_rules(any_runtime.uow(), owner, loft.id, {"send_if_late": False})
    later = book(
        any_runtime, owner, loft, "B-2", Guest("Bo", "bo@example.org"), OUT, date(2026, 12, 9)
    )
    codes_on_every_lock(any_runtime, owner, later.grant.id)
    run_messages_once(any_runtime, channels)
    entry = next(
        e for e in log(any_runtime, owner) if e.message.reservation_id == later.reservation.id
    )
    assert entry.status == "scheduled"  # 5 December 10:00 is still ahead
    clock.now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    last_minute = book(
        any_runtime,
        owner,
        loft,
        "B-3",
        Guest("Cy", "cy@example.org"),
        date(2026, 12, 7),
        date(2026, 12, 8),
    )
    run_messages_once(any_runtime, channels)
    entry = next(
        e for e in log(any_runtime, owner) if e.message.reservation_id == last_minute.reservation.id
    )
    assert entry.status == "skipped"
    assert "not to send late" in entry.message.reason


def test_a_released_backup_code_is_sent_once_it_is_on_every_lock(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    window = TimeWindow(booked.grant.starts_at, booked.grant.ends_at)
    request = ManualGrantRequest(
        GrantKind.BACKUP,
        "Ada Lovelace",
        window,
        property_ref=loft.id,
        reservation_id=booked.reservation.id,
    )
    backup = create_manual_grant(any_runtime.uow(), owner, request)
    message = announce_backup_code(any_runtime.uow(), owner, backup.id)
    assert announce_backup_code(any_runtime.uow(), owner, backup.id).id == message.id
    run_messages_once(any_runtime, channels)
    assert smtp_server.received == []
    codes_on_every_lock(any_runtime, owner, backup.id)
    run_messages_once(any_runtime, channels)
    [email] = smtp_server.received
    assert email.message["Subject"] == "Backup door code for Brooklyn Loft"
    assert reveal_code(any_runtime.uow(), owner, backup.id) in text_of(email)
    with pytest.raises(InvalidRequest, match="backup grant"):
        announce_backup_code(any_runtime.uow(), owner, booked.grant.id)


def test_grants_whose_events_were_missed_are_planned_by_the_sweep(
    any_runtime, owner, loft, channels
):
    book(any_runtime, owner, loft, "B-1")
    with any_runtime.uow() as uow:
        uow.messages.outbox(CURSOR).last_event_id = 10**9  # as if every event had been read
        uow.commit()
    run_messages_once(any_runtime, channels)
    [entry] = log(any_runtime, owner)
    assert entry.message.purpose == "check_in_instructions"


def test_filters_of_the_log(any_runtime, clock, owner, loft, smtp_server, cloud, channels):
    first = book(
        any_runtime, owner, loft, "B-1", Guest("Ada", "ada@example.org", "+351 912 345 678")
    )
    second = book(
        any_runtime, owner, loft, "B-2", Guest("Bo", "bo@example.org"), OUT, date(2026, 12, 9)
    )
    codes_on_every_lock(any_runtime, owner, first.grant.id)
    clock.now = datetime(2026, 12, 2, 16, tzinfo=UTC)
    run_messages_once(any_runtime, channels)
    assert {
        e.delivery.channel for e in log(any_runtime, owner, reservation_id=first.reservation.id)
    } == {"email", "sms", "whatsapp"}
    assert [e.message.reservation_id for e in log(any_runtime, owner, status="scheduled")] == [
        second.reservation.id
    ]
    assert len(log(any_runtime, owner, channel="sms")) == 1
    assert len(log(any_runtime, owner, status="sent")) == 3


class Unreachable(Channel):
    """A channel whose provider is down."""

    def __init__(self, name) -> None:
        self.name = name

    def send(self, message: OutgoingMessage) -> str:
        raise TransientFailure("cannot reach the provider: ConnectError")


def test_a_message_that_never_went_out_is_not_followed_by_access_changed(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    down = Channels({name: Unreachable(name) for name in channels})
    run_messages_once(any_runtime, down)
    assert log(any_runtime, owner)[0].status == "queued"  # waiting for its retry

    book(any_runtime, owner, loft, "B-1", check_in=date(2026, 12, 5), check_out=OUT)
    run_messages_once(any_runtime, channels)
    by_version = {e.message.grant_version: e for e in log(any_runtime, owner)}
    assert by_version[1].status == "cancelled"
    assert by_version[1].delivery.last_error == "superseded by version 2"
    assert by_version[2].message.purpose == "check_in_instructions"


def test_messages_that_must_wait_do_not_hold_back_one_that_can_go(
    any_runtime, clock, owner, loft, smtp_server, channels, monkeypatch
):
    """More messages waiting for their code than one batch holds, all due before the one
    that can go: a single pass still sends it.

    The dispatcher's batch is made 4 here: what is tested is the batch boundary, the same at
    any size, and 101 overlapping bookings (one batch of 100, plus one) cost two minutes on a
    loaded machine, each booking reviewing its overlaps with all the others."""
    monkeypatch.setattr(dispatcher, "BATCH", 4)
    batch = dispatcher.BATCH
    for n in range(batch + 1):
        book(any_runtime, owner, loft, f"W-{n}", Guest(f"Guest {n}", f"guest{n}@example.org"))
    ready = book(any_runtime, owner, loft, "R-1", check_in=date(2026, 12, 5), check_out=OUT)
    codes_on_every_lock(any_runtime, owner, ready.grant.id)
    run_messages_once(any_runtime, channels)
    assert smtp_server.received == []

    clock.now = datetime(2026, 12, 3, 15, tzinfo=UTC)  # every message is due by now
    report = run_messages_once(any_runtime, channels).report

    assert [r.rcpt_tos for r in smtp_server.received] == [["ada@example.org"]]
    assert (report.dispatched, report.sent) == (1, 1)
    waiting = [e for e in log(any_runtime, owner, limit=500) if e.status == "scheduled"]
    assert len(waiting) == batch + 1
    assert {e.message.reason for e in waiting} == {"waiting for the code to be on every lock"}


def test_cancelling_a_booking_clears_its_no_channel_alert(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    email_only = Channels({name: ch for name, ch in channels.items() if name == "email"})
    booked = book(any_runtime, owner, loft, "B-1", PHONE_GUEST)
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, email_only)
    at_due_time(clock, log(any_runtime, owner)[0])
    run_messages_once(any_runtime, email_only)
    assert "GuestMessageHasNoChannel" in alerts(any_runtime, owner, booked.reservation.id)

    cancel_reservation(any_runtime.uow(), owner, booked.reservation.id, "guest cancelled")
    run_messages_once(any_runtime, email_only)

    assert log(any_runtime, owner)[0].status == "cancelled"
    assert alerts(any_runtime, owner, booked.reservation.id) == {}


def test_cancelling_a_booking_clears_its_waiting_for_code_alert(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    run_messages_once(any_runtime, channels)
    clock.now = datetime(2026, 12, 4, 14, tzinfo=UTC)  # check-in minus 6 h, code still missing
    run_messages_once(any_runtime, channels)
    assert "GuestMessageWaitingForCode" in alerts(any_runtime, owner, booked.reservation.id)

    cancel_reservation(any_runtime.uow(), owner, booked.reservation.id, "guest cancelled")
    run_messages_once(any_runtime, channels)

    assert log(any_runtime, owner)[0].status == "cancelled"
    assert alerts(any_runtime, owner, booked.reservation.id) == {}


def test_an_operator_retry_of_a_delivery_that_gave_up_gets_a_fresh_budget(
    any_runtime, clock, owner, loft, smtp_server, channels
):
    booked = book(any_runtime, owner, loft, "B-1")
    codes_on_every_lock(any_runtime, owner, booked.grant.id)
    run_messages_once(any_runtime, channels)
    at_due_time(clock, log(any_runtime, owner)[0])
    down = Channels({name: Unreachable(name) for name in channels})
    for _ in range(MAX_ATTEMPTS):
        run_messages_once(any_runtime, down)
        clock.advance(hours=1)
    [entry] = log(any_runtime, owner)
    assert (entry.status, entry.delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert entry.delivery.last_error.startswith(f"gave up after {MAX_ATTEMPTS} of {MAX_ATTEMPTS}")

    retry_delivery(any_runtime.uow(), owner, entry.delivery.id)
    run_messages_once(any_runtime, down)  # still down: retried later, not given up at once
    [entry] = log(any_runtime, owner)
    assert (entry.status, entry.delivery.attempts) == ("queued", MAX_ATTEMPTS + 1)
    assert entry.delivery.next_attempt_at == clock.now + timedelta(minutes=1)

    clock.advance(minutes=1)
    run_messages_once(any_runtime, channels)
    [entry] = log(any_runtime, owner)
    assert (entry.status, entry.delivery.attempts) == ("sent", MAX_ATTEMPTS + 2)
    assert len(smtp_server.received) == 1
