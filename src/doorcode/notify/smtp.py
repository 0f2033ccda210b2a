"""Email over SMTP: one multipart message with a plain-text and an HTML part.

Security is ``starttls`` (port 587 by default), ``ssl`` (implicit TLS, 465) or ``none``
(25, for a relay on the same host); a password is never sent without TLS. The
``Message-ID`` is derived from the delivery's idempotency key, so a retried message is the
same message to every mail system that reads it.

What an SMTP failure means depends on when it happens. Before the transaction (connect,
STARTTLS, login) nothing was sent: a network failure is worth a retry, refused credentials
or an untrusted certificate are not. In the transaction the server answers with a code:
4xx is worth a retry, 5xx is not. A connection lost in the middle of it leaves the outcome
unknown, and the message is not resent.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email import errors as email_errors
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal

from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.errors import (
    DeliveryError,
    OutcomeUnknown,
    PermanentFailure,
    TransientFailure,
)

__all__ = ["SmtpChannel", "SmtpSettings"]

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """An SMTP server, how to talk to it, and who messages come from."""

    host: str
    sender: str
    port: int = 0
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str = ""
    password: str = ""
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, security={self.security!r}, password=***)"

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        return self.port or DEFAULT_PORTS[self.security]


class SmtpChannel(Channel):
    """Guest messages as email."""

    name = ChannelName.EMAIL

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: OutgoingMessage) -> str:
        """Send one email; its ``Message-ID`` identifies it."""
        recipient = _recipient(message)
        email = self._compose(message, recipient)
        connection = self._connect()
        try:
            connection.send_message(email, to_addrs=[recipient.addr_spec])
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _text in err.recipients.values()]
            raise _by_code(min(codes, default=550), "the server refused the recipient") from err
        except smtplib.SMTPResponseException as err:
            raise _by_code(err.smtp_code, "the server refused the message") from err
        except (smtplib.SMTPException, OSError) as err:
            reason = f"the connection failed while sending: {type(err).__name__}"
            raise OutcomeUnknown(reason) from err
        finally:
            _quit(connection)
        return str(email["Message-ID"])

    def _compose(self, message: OutgoingMessage, recipient: Address) -> EmailMessage:
        rendered = message.rendered
        email = EmailMessage()
        try:
            email["Subject"] = rendered.subject
            email["From"] = self._settings.sender
            email["To"] = recipient
            if message.reply_to:
                email["Reply-To"] = message.reply_to
            email["Date"] = format_datetime(message.created_at)
            email["Message-ID"] = self._message_id(message.idempotency_key)
            email["Auto-Submitted"] = "auto-generated"
            email.set_content(rendered.text)
            email.add_alternative(rendered.html, subtype="html")
        except (ValueError, TypeError) as err:
            raise PermanentFailure(f"the email cannot be composed: {type(err).__name__}") from err
        return email

    def _message_id(self, key: str) -> str:
        domain = parseaddr(self._settings.sender)[1].rpartition("@")[2] or "doorcode.invalid"
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.username and settings.security == "none":
            raise PermanentFailure(
                "refusing to send the SMTP password without TLS: set DOORCODE_SMTP_SECURITY"
            )
        connection: smtplib.SMTP | None = None
        try:
            connection = self._open()
            if settings.security == "starttls":
                connection.starttls(context=self._ssl_context)
            if settings.username:
                connection.login(settings.username, settings.password)
        except Exception as err:
            if connection is not None:
                _quit(connection)
            raise _connection_failure(err) from err
        return connection

    def _open(self) -> smtplib.SMTP:
        settings = self._settings
        port, timeout = settings.effective_port, settings.timeout
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(settings.host, port, timeout=timeout, context=self._ssl_context)
        return smtplib.SMTP(settings.host, port, timeout=timeout)


def _recipient(message: OutgoingMessage) -> Address:
    """The guest's one address, named by the guest's name and nothing more.

    Both come from outside. Joined as text (``formataddr``) and read back, an address like
    ``a@b.c,postmaster`` or ``<a@b.c>`` gave a second or another recipient (the name
    itself, when it looked like an address), and a non-ASCII name with ``<eve@x>`` in it
    showed eve as the recipient to the guest's mail program. Built as an ``Address``, the
    name is always encoded as a name, and only an address that is exactly one is used. An
    international domain is sent in its ASCII form, which every server takes: a relay
    without SMTPUTF8 made smtplib refuse the message before it left.
    """
    try:
        address = Address(addr_spec=message.recipient.strip())
        domain = address.domain.encode("idna").decode("ascii")
        return Address(" ".join(message.recipient_name.split()), address.username, domain)
    except (ValueError, IndexError, email_errors.HeaderParseError) as err:
        raise PermanentFailure("the guest's address is not an email address") from err


def _connection_failure(err: Exception) -> DeliveryError:
    """Nothing was sent yet: say whether trying again could help."""
    if isinstance(err, DeliveryError):
        return err
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return PermanentFailure(f"the SMTP server refused the credentials ({err.smtp_code})")
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return PermanentFailure("the SMTP server does not offer STARTTLS")
    if isinstance(err, ssl.SSLCertVerificationError):
        return PermanentFailure(f"the SMTP server's certificate is not trusted: {err.reason}")
    if isinstance(err, smtplib.SMTPResponseException):
        return _by_code(err.smtp_code, "the SMTP server refused the connection")
    if isinstance(err, smtplib.SMTPException | OSError):
        return TransientFailure(f"cannot reach the SMTP server: {type(err).__name__}")
    raise err


def _by_code(code: int, what: str) -> DeliveryError:
    reason = f"{what} ({code})"
    if 400 <= code < 500:
        return TransientFailure(reason)
    return PermanentFailure(reason)


def _quit(connection: smtplib.SMTP) -> None:
    """Say goodbye, ignoring a server that already hung up: the message's fate is decided."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
