"""Request and response bodies for guest messages: templates, rules, the log, host contact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from doorcode.api.schemas import LocalTime, Strict
from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.domain.reservations import EMAIL_PATTERN, PHONE_PATTERN

__all__ = [
    "AttemptBody",
    "HostContactBody",
    "MessageLogBody",
    "MessageRulesBody",
    "MessageRulesChangesBody",
    "PreviewBody",
    "PreviewRequestBody",
    "TemplateBody",
    "TemplateChannel",
    "TemplatePartsBody",
]

TemplateChannel = Literal["email", "sms", "whatsapp"]
Part = Annotated[str, Field(max_length=10_000)]


class TemplatePartsBody(Strict):
    """A template's wording; which parts a channel needs is in the README."""

    subject: Part = ""
    html: Part = ""
    text: Part = ""
    provider_template: str = Field(default="", max_length=512)


class TemplateBody(BaseModel):
    """A template: saved (with an id), or the one in effect (``source`` says which)."""

    id: str | None
    source: Literal["property", "account", "built-in", "preview"]
    property_id: str | None
    purpose: MessagePurpose
    channel: ChannelName
    locale: str
    subject: str
    html: str
    text: str
    provider_template: str
    updated_at: datetime | None = None


class PreviewRequestBody(Strict):
    """What to preview: a template in effect, or ``template`` as it would be saved."""

    purpose: MessagePurpose = MessagePurpose.CHECK_IN_INSTRUCTIONS
    channel: TemplateChannel = "email"
    locale: str = Field(default="en", min_length=2, max_length=16)
    property: str | None = Field(default=None, description="Property id, external id or name.")
    template: TemplatePartsBody | None = None


class PreviewBody(BaseModel):
    """A template rendered for a sample stay (a made-up guest and a made-up code)."""

    source: str
    locale: str
    subject: str
    text: str
    html: str
    parameters: list[str]
    provider_template: str
    language: str


class MessageRulesBody(BaseModel):
    """A property's rules for guest messages."""

    property_id: str
    days_before: int
    send_at: LocalTime
    send_if_late: bool
    on_change: bool
    on_backup_code: bool
    alert_hours: int


class MessageRulesChangesBody(Strict):
    """Rules to change; absent fields stay as they are."""

    days_before: int | None = Field(default=None, ge=0, le=30)
    send_at: LocalTime | None = Field(default=None, description="Local time at the property.")
    send_if_late: bool | None = None
    on_change: bool | None = None
    on_backup_code: bool | None = None
    alert_hours: int | None = Field(default=None, ge=0, le=168)


class AttemptBody(BaseModel):
    """One try at sending."""

    number: int
    outcome: str
    error: str | None
    provider_message_id: str | None
    started_at: datetime
    finished_at: datetime | None


class MessageLogBody(BaseModel):
    """A row of the notification log: a message and one delivery (none until it is due)."""

    id: str = Field(description="The delivery's id, or the message's while it has none.")
    message_id: str
    reservation_id: str | None
    grant_id: str
    grant_version: int
    purpose: MessagePurpose
    channel: ChannelName | None
    recipient: str | None = Field(description="Masked.")
    status: str
    reason: str | None
    template: str | None
    due_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    provider_message_id: str | None
    updated_at: datetime
    attempt_log: list[AttemptBody]


class HostContactBody(Strict):
    """Who guests contact about their stay; an empty name means the organisation's name."""

    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
