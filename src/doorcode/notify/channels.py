"""The channels this process can send through, built from ``DOORCODE_*`` settings.

A channel with no configuration is simply absent: with only SMTP set up, guests get email
and nothing else, and a guest with only a phone number waits (with an alert) until a phone
channel exists. The HTTP channels share one ``httpx.Client``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import httpx

from doorcode.config import Settings
from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel
from doorcode.notify.console import ConsoleChannel
from doorcode.notify.outbound import TIMEOUT
from doorcode.notify.smtp import SmtpChannel, SmtpSettings
from doorcode.notify.twilio import TwilioSettings, TwilioSmsChannel
from doorcode.notify.whatsapp import WhatsAppChannel, WhatsAppSettings

__all__ = ["Channels", "available_channel_names", "channels_from_settings"]


@dataclass
class Channels(Mapping[ChannelName, Channel]):
    """The configured channels by name; close them when done."""

    available: dict[ChannelName, Channel] = field(default_factory=dict)
    http: httpx.Client | None = None

    def __getitem__(self, name: ChannelName) -> Channel:
        return self.available[name]

    def __iter__(self) -> Iterator[ChannelName]:
        return iter(sorted(self.available))

    def __len__(self) -> int:
        return len(self.available)

    def close(self) -> None:
        """Release the channels' connections."""
        for channel in self.available.values():
            channel.close()
        if self.http is not None:
            self.http.close()


def channels_from_settings(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Channels:
    """Every channel ``settings`` configure; ``http`` and ``ssl_context`` are for tests."""
    client = http or httpx.Client(timeout=TIMEOUT)
    names = available_channel_names(settings)
    found: dict[ChannelName, Channel] = {}
    if ChannelName.EMAIL in names:
        found[ChannelName.EMAIL] = SmtpChannel(_smtp(settings), ssl_context)
    if ChannelName.SMS in names:
        found[ChannelName.SMS] = TwilioSmsChannel(_twilio(settings), client)
    if ChannelName.WHATSAPP in names:
        found[ChannelName.WHATSAPP] = WhatsAppChannel(_whatsapp(settings), client)
    if ChannelName.CONSOLE in names:
        found[ChannelName.CONSOLE] = ConsoleChannel()
    return Channels(found, client)


def available_channel_names(settings: Settings) -> frozenset[ChannelName]:
    """The channels ``settings`` configure, without building them (nothing is connected)."""
    names: set[ChannelName] = set()
    if settings.smtp_host and settings.smtp_from:
        names.add(ChannelName.EMAIL)
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        names.add(ChannelName.SMS)
    if settings.whatsapp_token and settings.whatsapp_phone_number_id:
        names.add(ChannelName.WHATSAPP)
    if settings.console_messages:
        names.add(ChannelName.CONSOLE)
    return frozenset(names)


def _smtp(settings: Settings) -> SmtpSettings:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    return SmtpSettings(
        host=settings.smtp_host,
        sender=settings.smtp_from,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password,
    )


def _twilio(settings: Settings) -> TwilioSettings:
    assert settings.twilio_auth_token is not None
    return TwilioSettings(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        sender=settings.twilio_from,
        base_url=settings.twilio_base_url,
    )


def _whatsapp(settings: Settings) -> WhatsAppSettings:
    assert settings.whatsapp_token is not None
    return WhatsAppSettings(
        token=settings.whatsapp_token.get_secret_value(),
        phone_number_id=settings.whatsapp_phone_number_id,
        base_url=settings.whatsapp_base_url,
        api_version=settings.whatsapp_api_version,
    )
