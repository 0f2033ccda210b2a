"""Guest messages as the domain sees them: why one is sent, when, through what, and retries.

A **message** is one thing to tell a guest about one version of one grant (the check-in
instructions for version 3, say); it has a due time and waits until the grant's code is on
every lock. A **delivery** is that message on one channel to one address, with its attempts.
Nothing here renders a template or talks to a provider; the clock is always an argument.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.errors import DomainError
from doorcode.domain.windows import Edge, local_instant

__all__ = [
    "ALERT_GRACE",
    "FIRST_RETRY",
    "LONGEST_RETRY",
    "MAX_ATTEMPTS",
    "ChannelName",
    "DeliveryStatus",
    "InvalidMessageRules",
    "MessagePurpose",
    "MessageRules",
    "MessageStatus",
    "addresses_for",
    "alert_moment",
    "idempotency_key",
    "instructions_due",
    "mask_recipient",
    "next_attempt_at",
    "normalise_phone",
    "recipient_masks",
    "redact",
]


class InvalidMessageRules(DomainError):
    """Scheduling rules outside what a host can sensibly ask for."""


class MessagePurpose(enum.StrEnum):
    """Why a guest hears from us; each purpose has its own templates."""

    CHECK_IN_INSTRUCTIONS = "check_in_instructions"
    ACCESS_CHANGED = "access_changed"
    BACKUP_CODE = "backup_code"


class ChannelName(enum.StrEnum):
    """How a message reaches a guest; ``console`` is the demo's phone."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


class MessageStatus(enum.StrEnum):
    """Where a message stands before its deliveries take over."""

    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class DeliveryStatus(enum.StrEnum):
    """Where one delivery stands; ``unknown`` means it may have gone out and is never resent."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class MessageRules:
    """A property's rules for guest messages; the defaults suit most rentals.

    * ``days_before`` and ``send_at``: check-in instructions go out that many days before
      check-in, at that local time at the property;
    * ``send_if_late``: a booking made after that moment gets them as soon as the code is set;
    * ``on_change``: a guest who already has instructions hears again when the code or the
      stay's window changes;
    * ``on_backup_code``: a released backup code is sent;
    * ``alert_hours``: if the code is still not on every lock this many hours before check-in,
      an alert is raised.
    """

    days_before: int = 2
    send_at: time = time(10, 0)
    send_if_late: bool = True
    on_change: bool = True
    on_backup_code: bool = True
    alert_hours: int = 6

    def __post_init__(self) -> None:
        if not 0 <= self.days_before <= 30:
            raise InvalidMessageRules("days before check-in must be between 0 and 30")
        if not 0 <= self.alert_hours <= 168:
            raise InvalidMessageRules("alert hours before check-in must be between 0 and 168")
        if self.send_at.tzinfo is not None:
            raise InvalidMessageRules("the send time is a local time at the property, no offset")


ALERT_GRACE = timedelta(minutes=15)


def instructions_due(check_in: datetime, zone: ZoneInfo, rules: MessageRules) -> datetime:
    """When check-in instructions are due for a stay starting at ``check_in``.

    The day is counted on the property's calendar, so "2 days before at 10:00" is 10:00
    local two dates earlier, whatever daylight saving does in between.
    """
    day = check_in.astimezone(zone).date() - timedelta(days=rules.days_before)
    return local_instant(day, rules.send_at, zone, Edge.START)


def alert_moment(check_in: datetime, rules: MessageRules, now: datetime) -> datetime:
    """When a message still waiting for its code becomes an alert.

    ``alert_hours`` before check-in, but never sooner than a quarter of an hour from now:
    the locks need a moment to take a code that was set a second ago.
    """
    return max(check_in - timedelta(hours=rules.alert_hours), now + ALERT_GRACE)


MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def next_attempt_at(
    attempts: int, now: datetime, retry_after: timedelta | None = None
) -> datetime | None:
    """When to try again after ``attempts`` transient failures; None once it is time to give up.

    The wait doubles from one minute up to an hour; a provider's ``Retry-After`` is honoured
    when it asks for longer (capped at the same hour).
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)
    if retry_after is not None:
        delay = max(delay, min(retry_after, LONGEST_RETRY))
    return now + delay


def idempotency_key(grant_id: str, purpose: MessagePurpose, version: int, channel: str) -> str:
    """The one key a delivery of (grant, purpose, version) on a channel may ever be sent under."""
    return f"{grant_id}:{purpose.value}:v{version}:{channel}"


def normalise_phone(raw: str | None) -> str | None:
    """A phone number as providers want it (``+`` and digits), or None if it cannot be one.

    Some PMSs send E.164 without its ``+`` (``12016665626``), so bare digits are taken as
    country code and number. A number written the national way is not: a trunk ``0`` or an
    area code in brackets means the country code is missing, and prefixing a ``+`` would
    text the door code to a stranger abroad (``(415) 555-0100`` as a Swiss number). ``00``
    is the international prefix, the same as ``+``.
    """
    if not raw:
        return None
    digits = re.sub(r"[\s().-]", "", raw)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif not digits.startswith("+") and (digits.startswith("0") or raw.lstrip().startswith("(")):
        return None
    if not re.fullmatch(r"\+?[0-9]{6,15}", digits):
        return None
    return digits if digits.startswith("+") else f"+{digits}"


def addresses_for(
    email: str | None, phone: str | None, channels: Iterable[ChannelName]
) -> dict[ChannelName, str]:
    """Where each of ``channels`` would reach a guest with these contact details."""
    number = normalise_phone(phone)
    known: dict[ChannelName, str | None] = {
        ChannelName.EMAIL: email or None,
        ChannelName.SMS: number,
        ChannelName.WHATSAPP: number,
        ChannelName.CONSOLE: email or number,
    }
    return {channel: address for channel in channels if (address := known[channel])}


def mask_recipient(address: str) -> str:
    """An address as listings show it: enough to recognise, not enough to harvest."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) <= 6:
        return "***"
    return f"{address[:3]}{'*' * (len(address) - 6)}{address[-3:]}"


def recipient_masks(recipient: str) -> dict[str, str]:
    """What to mask of a recipient in a provider's answer: the address as sent, and a phone
    number without its ``+``, as SMS and WhatsApp APIs echo it."""
    masked = mask_recipient(recipient)
    return {recipient: masked, recipient.lstrip("+"): masked}


def redact(text: str, secrets: Iterable[str], masks: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret replaced by ``***`` and every masked value by its mask.

    Providers sometimes echo what they were sent in an error; this is what stands between
    such an echo and the notification log.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    for clear, masked in (masks or {}).items():
        if clear:
            text = text.replace(clear, masked)
    return text
