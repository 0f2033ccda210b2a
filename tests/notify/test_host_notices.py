"""Notices to the host go out once per channel, are retried, and never carry a code."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel
from doorcode.notify.console import ConsoleChannel
from doorcode.notify.errors import OutcomeUnknown, PermanentFailure, TransientFailure
from doorcode.notify.host_notices import send_host_notices
from doorcode.services.guidebook import report_arrival
from doorcode.services.host_contact import HostContact, set_host_contact
from doorcode.store.models import HostNotice
from tests.builders import book, guide_token_of, make_owner, make_property


class Scripted(Channel):
    """A channel that answers with what the test scripted, and keeps what it was handed."""

    name = ChannelName.EMAIL

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def arrival(runtime, clock):
    owner = make_owner(runtime)
    set_host_contact(runtime.uow(), owner, HostContact("Marta", "marta@acme.example"))
    flat = make_property(runtime, owner, "Flat 1", time_zone="UTC")
    booked = book(runtime, owner, flat, "B-1", date(2026, 11, 23), date(2026, 11, 25))
    clock.advance(hours=7)
    channels = frozenset({ChannelName.EMAIL, ChannelName.CONSOLE})
    report_arrival(
        runtime.uow(), guide_token_of(runtime, booked.reservation), "198.51.100.1", channels
    )
    with runtime.uow() as uow:
        code = uow.grants.code_of(uow.grants.get(owner.organisation_id, booked.grant.id))
    return code


def notices(runtime):
    with runtime.uow() as uow:
        return {n.channel: n for n in uow.session.scalars(select(HostNotice))}


def test_each_notice_is_sent_once_and_the_console_prints_it_without_a_code(runtime, arrival):
    stream = io.StringIO()
    email = Scripted("smtp-id-1")
    channels = {ChannelName.EMAIL: email, ChannelName.CONSOLE: ConsoleChannel(stream)}
    report = send_host_notices(runtime.uow, channels)
    assert report.sent == 2
    assert send_host_notices(runtime.uow, channels).sent == 0
    [message] = email.sent
    assert message.recipient == "marta@acme.example"
    assert message.rendered.subject == "Flat 1: Ada Lovelace has arrived at Flat 1."
    assert "<p>Ada Lovelace has arrived at Flat 1.</p>" in message.rendered.html
    printed = stream.getvalue()
    assert "Message to Marta <marta@acme.example>  (guest_arrived)" in printed
    assert arrival not in printed
    assert {n.status for n in notices(runtime).values()} == {"sent"}


def test_a_transient_failure_is_retried_later_and_a_permanent_one_is_final(runtime, arrival, clock):
    flaky = Scripted(TransientFailure("SMTP 451"), "smtp-id-2")
    channels = {ChannelName.EMAIL: flaky, ChannelName.CONSOLE: ConsoleChannel(io.StringIO())}
    assert send_host_notices(runtime.uow, channels).retrying == 1
    waiting = notices(runtime)["email"]
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 1, "SMTP 451")
    assert send_host_notices(runtime.uow, channels).sent == 0
    clock.advance(minutes=1)
    assert send_host_notices(runtime.uow, channels).sent == 1
    assert notices(runtime)["email"].status == "sent"


@pytest.mark.parametrize(
    ("failure", "status"),
    [(PermanentFailure("550 no such user"), "failed"), (OutcomeUnknown("read timeout"), "unknown")],
)
def test_final_failures_are_kept_with_their_reason(runtime, arrival, failure, status):
    channels = {ChannelName.EMAIL: Scripted(failure), ChannelName.CONSOLE: Scripted("ok")}
    send_host_notices(runtime.uow, channels)
    notice = notices(runtime)["email"]
    assert (notice.status, notice.last_error) == (status, failure.reason)


def test_a_notice_left_sending_by_a_dead_process_is_never_sent_again(runtime, arrival, clock):
    with runtime.uow() as uow:
        for notice in uow.session.scalars(select(HostNotice)):
            notice.status, notice.next_attempt_at = "sending", uow.now  # as a claim leaves it
        uow.commit()
    email = Scripted()
    clock.advance(minutes=5)  # inside the lease: the sender may still be at work
    report = send_host_notices(runtime.uow, {ChannelName.EMAIL: email})
    assert report.unknown == 0
    assert {n.status for n in notices(runtime).values()} == {"sending"}
    clock.advance(minutes=6)  # the lease is over: the sender is surely gone
    report = send_host_notices(runtime.uow, {ChannelName.EMAIL: email})
    assert report.unknown == 2
    assert {n.status for n in notices(runtime).values()} == {"unknown"}
    assert email.sent == []


def test_a_channel_configured_away_fails_the_notice(runtime, arrival):
    report = send_host_notices(runtime.uow, {})
    assert report.failed == 2
    assert "not configured" in notices(runtime)["console"].last_error


def test_notices_wait_for_their_time(runtime, arrival, clock):
    clock.now -= timedelta(minutes=5)
    email = Scripted("ok")
    channels = {ChannelName.EMAIL: email, ChannelName.CONSOLE: Scripted("ok")}
    assert send_host_notices(runtime.uow, channels).sent == 0
    assert email.sent == []
    assert {n.status for n in notices(runtime).values()} == {"queued"}
