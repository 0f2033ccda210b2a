"""Email over SMTP against a real aiosmtpd server: plain, STARTTLS and implicit TLS, with auth."""

from datetime import UTC, datetime

import pytest

from doorcode.domain.messages import MessagePurpose
from doorcode.notify.channel import OutgoingMessage
from doorcode.notify.errors import PermanentFailure, TransientFailure
from doorcode.notify.smtp import SmtpChannel, SmtpSettings
from doorcode.notify.templates import RenderedMessage
from tests.notify.servers import SMTP_PASSWORD, SMTP_USER, refusing_port, start_smtp

SENDER = "Demo Rentals <stays@demo-rentals.example>"

# aiosmtpd warns about AUTH without STARTTLS, not knowing an SMTPS socket is TLS already.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def outgoing(**changes) -> OutgoingMessage:
    values = {
        "recipient": "ada@example.org",
        "recipient_name": "Ada Lovelace",
        "rendered": RenderedMessage(
            subject="Your door code for Flat 1",
            text="Your door code: 482913\n",
            html="<p>Your door code: <strong>482913</strong></p>",
        ),
        "idempotency_key": "grt_1:check_in_instructions:v1:email",
        "purpose": MessagePurpose.CHECK_IN_INSTRUCTIONS,
        "created_at": datetime(2026, 12, 2, 10, tzinfo=UTC),
        "reply_to": "hello@demo-rentals.example",
    }
    return OutgoingMessage(**{**values, **changes})


@pytest.fixture(params=["starttls", "ssl"])
def secured_server(request, certificate):
    server = start_smtp(request.param, certificate)
    yield request.param, server
    server.controller.stop()


def test_an_email_arrives_with_its_headers_and_both_parts(smtp_server):
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    message_id = channel.send(outgoing())
    [received] = smtp_server.received
    email = received.message
    assert received.mail_from == "stays@demo-rentals.example"
    assert received.rcpt_tos == ["ada@example.org"]
    assert email["From"] == SENDER
    assert email["To"] == "Ada Lovelace <ada@example.org>"
    assert email["Subject"] == "Your door code for Flat 1"
    assert email["Reply-To"] == "hello@demo-rentals.example"
    assert email["Message-ID"] == message_id
    assert message_id.endswith("@demo-rentals.example>")
    assert email["Date"] == "Wed, 02 Dec 2026 10:00:00 +0000"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert text.splitlines() == ["Your door code: 482913"]
    assert "<strong>482913</strong>" in html


def test_the_message_id_is_the_same_for_the_same_delivery(smtp_server):
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    first = channel.send(outgoing())
    again = channel.send(outgoing())
    other = channel.send(outgoing(idempotency_key="grt_1:check_in_instructions:v2:email"))
    assert first == again != other


def test_tls_and_login_are_used_when_configured(secured_server, certificate):
    security, server = secured_server
    settings = SmtpSettings("localhost", SENDER, server.port, security, SMTP_USER, SMTP_PASSWORD)
    SmtpChannel(settings, certificate.client_context()).send(outgoing())
    [received] = server.received
    assert received.authenticated
    assert "482913" in received.message.get_body(("plain",)).get_content()


def test_refused_credentials_are_a_permanent_failure_without_the_password(
    secured_server, certificate
):
    security, server = secured_server
    settings = SmtpSettings("localhost", SENDER, server.port, security, SMTP_USER, "wrong-one")
    with pytest.raises(PermanentFailure) as raised:
        SmtpChannel(settings, certificate.client_context()).send(outgoing())
    assert "credentials" in raised.value.reason
    assert "wrong-one" not in raised.value.reason
    assert server.received == []


def test_an_untrusted_certificate_is_refused(secured_server):
    security, server = secured_server
    settings = SmtpSettings("localhost", SENDER, server.port, security, SMTP_USER, SMTP_PASSWORD)
    with pytest.raises(PermanentFailure, match="certificate is not trusted"):
        SmtpChannel(settings).send(outgoing())


def test_a_password_is_never_sent_without_tls(smtp_server):
    settings = SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none", SMTP_USER, "pw")
    with pytest.raises(PermanentFailure, match="without TLS"):
        SmtpChannel(settings).send(outgoing())


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "failure"),
    [
        ("550 5.1.1 No such user here", None, PermanentFailure),
        ("452 4.2.2 Mailbox full, try later", None, TransientFailure),
        (None, "451 4.3.0 Try again later", TransientFailure),
        (None, "554 5.7.1 Rejected as spam", PermanentFailure),
    ],
)
def test_the_server_reply_code_decides_between_retry_and_failure(
    smtp_server, rcpt_reply, data_reply, failure
):
    smtp_server.handler.rcpt_reply, smtp_server.handler.data_reply = rcpt_reply, data_reply
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    with pytest.raises(failure) as raised:
        channel.send(outgoing())
    assert type(raised.value) is failure
    assert "482913" not in raised.value.reason


def test_no_server_listening_is_worth_a_retry():
    with refusing_port() as port:
        channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, port, "none", timeout=2))
        with pytest.raises(TransientFailure, match="cannot reach the SMTP server"):
            channel.send(outgoing())


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("eve@evil.example", "<ada@example.org>"),  # the name would become the recipient
        ("Ada Lovelace", "ada@example.org,postmaster"),  # a second, local recipient
        ("Ada Lovelace", "ada@example.org>,<eve"),
        ("Ada Lovelace", "team:ada@example.org;"),
        ("Ada Lovelace", "ada@example.org\r\nBcc: eve@evil.example"),
    ],
)
def test_an_address_that_would_reach_anyone_else_is_refused_unsent(smtp_server, name, address):
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    with pytest.raises(PermanentFailure, match="not an email address"):
        channel.send(outgoing(recipient=address, recipient_name=name))
    assert smtp_server.received == []


def test_a_hostile_display_name_stays_a_name_and_only_the_guest_receives(smtp_server):
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    name = 'Zoë "Ze" Åberg, <eve@evil.example>\r\nBcc: eve@evil.example'
    channel.send(outgoing(recipient_name=name))
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ada@example.org"]
    assert received.message["Bcc"] is None
    assert received.message["To"].addresses[0].addr_spec == "ada@example.org"
    assert received.message["To"].addresses[0].display_name.startswith('Zoë "Ze" Åberg')


def test_an_address_with_an_international_domain_is_sent_to_its_ascii_form(smtp_server):
    """Without SMTPUTF8 smtplib refused it before sending, and that was called maybe-sent."""
    channel = SmtpChannel(SmtpSettings("127.0.0.1", SENDER, smtp_server.port, "none"))
    channel.send(outgoing(recipient="ada@bücher.example"))
    [received] = smtp_server.received
    assert received.rcpt_tos == ["ada@xn--bcher-kva.example"]
