"""What a message template can say: its variables, their shapes, and the values they take.

Every value comes from one grant and its reservation (``MessageFacts``), so a message can
only ever speak about its own guest. Times are shown on the property's wall clock, in the
guest's language when the template is in that language (else in the template's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format

from doorcode.domain.messages import MessagePurpose
from doorcode.notify.sandbox import NUMBER, TEXT, Group, Kind, ListOf
from doorcode.services.errors import InvalidRequest

__all__ = [
    "DESCRIPTIONS",
    "VARIABLES",
    "AccessCode",
    "MessageFacts",
    "Moment",
    "canonical_locale",
    "context_for",
    "formatting_locale",
    "given_name",
    "locale_chain",
]

MOMENT = Group({"date": TEXT, "time": TEXT, "iso": TEXT}, printable=True)
ACCESS_CODE = Group(
    {"lock": TEXT, "code": TEXT, "valid_from": MOMENT, "valid_until": MOMENT, "rules": TEXT},
    printable=True,
)
VARIABLES: dict[str, Kind] = {
    "purpose": TEXT,
    "guest": Group({"name": TEXT, "first_name": TEXT, "locale": TEXT}),
    "property": Group({"name": TEXT, "address": TEXT, "time_zone": TEXT}),
    "check_in": MOMENT,
    "check_out": MOMENT,
    "nights": NUMBER,
    "code": TEXT,
    "all_access_codes": ListOf(ACCESS_CODE),
    "guidebook_url": TEXT,
    "host": Group({"name": TEXT, "email": TEXT, "phone": TEXT}),
    "reservation": Group({"reference": TEXT, "guests": NUMBER}),
}
DESCRIPTIONS: dict[str, str] = {
    "purpose": "check_in_instructions, access_changed or backup_code",
    "guest.name": "the guest's name as the booking gives it",
    "guest.first_name": "the first word of that name",
    "guest.locale": "the guest's language tag, e.g. pt-BR (may be empty)",
    "property.name": "the property's name",
    "property.address": "the property's street address (may be empty)",
    "property.time_zone": "the property's IANA time zone, e.g. Europe/Lisbon",
    "check_in": "check-in on the property's clock in the guest's format; "
    "also .date, .time and .iso",
    "check_out": "check-out, the same way",
    "nights": "number of nights",
    "code": "the code (the same on every lock of the stay; the backup code for backup_code)",
    "all_access_codes": "every lock with its code: prints one 'Lock: code' line per lock; "
    "loop for .lock, .code, .valid_from, .valid_until, .rules (a vendor offline code's "
    "conditions, e.g. use it once within 24 hours of its start; empty for a PIN)",
    "guidebook_url": "the guest's own guidebook link",
    "host.name": "who to contact (the organisation's host contact, else its name)",
    "host.email": "the host's email (may be empty)",
    "host.phone": "the host's phone (may be empty)",
    "reservation.reference": "the booking's reference at its source",
    "reservation.guests": "number of guests (may be empty)",
}


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant as the guest reads it; prints as date and time together."""

    date: str
    time: str
    iso: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class AccessCode:
    """One lock of the stay and the code that opens it."""

    lock: str
    code: str
    valid_from: Moment
    valid_until: Moment
    rules: str = ""
    """A vendor offline code's conditions in sentences; empty for a PIN."""

    def __str__(self) -> str:
        line = f"{self.lock}: {self.code}"
        return f"{line} ({self.rules})" if self.rules else line

    def __repr__(self) -> str:
        return f"AccessCode(lock={self.lock!r}, code=***)"


class AccessCodes(tuple[AccessCode, ...]):
    """Every lock's code; prints one ``Lock: code`` line per lock (seed 001's allAccessCodes)."""

    __slots__ = ()

    def __str__(self) -> str:
        return "\n".join(str(code) for code in self)


@dataclass(frozen=True, slots=True)
class Person:
    """The guest as templates see them."""

    name: str
    first_name: str
    locale: str


@dataclass(frozen=True, slots=True)
class Place:
    """The property as templates see it."""

    name: str
    address: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class Contact:
    """The host as templates see them."""

    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Booking:
    """The reservation as templates see it."""

    reference: str
    guests: int | None


@dataclass(frozen=True, slots=True, repr=False)
class OfflineAccess:
    """One offline keypad's code for this stay, and the window the code really opens."""

    lock_name: str
    code: str
    starts_at: datetime
    ends_at: datetime
    rules: tuple[str, ...] = ()
    """A vendor offline code's conditions (whole hours, use within 24 hours ...)."""

    def __repr__(self) -> str:
        return f"OfflineAccess(lock={self.lock_name!r}, code=***)"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything one message may mention, taken from one grant and its reservation."""

    purpose: MessagePurpose
    guest_name: str
    guest_locale: str | None
    property_name: str
    property_address: str
    time_zone: str
    starts_at: datetime
    ends_at: datetime
    code: str
    lock_names: tuple[str, ...]
    guidebook_url: str
    host_name: str
    host_email: str | None
    host_phone: str | None
    reference: str
    guests: int | None
    offline_codes: tuple[OfflineAccess, ...] = ()
    """Locks without a network, where the guest types their key group's offline code instead."""

    def __repr__(self) -> str:
        return f"MessageFacts(purpose={self.purpose.value!r}, code=***, guidebook_url=***)"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never reach a log line or an error message."""
        return (self.code, self.guidebook_url, *(access.code for access in self.offline_codes))


def context_for(facts: MessageFacts, locale: Locale) -> dict[str, Any]:
    """The template variables for ``facts``, dates written for ``locale``."""
    zone = ZoneInfo(facts.time_zone)
    check_in = _moment(facts.starts_at, zone, locale)
    check_out = _moment(facts.ends_at, zone, locale)
    nights = (facts.ends_at.astimezone(zone).date() - facts.starts_at.astimezone(zone).date()).days
    return {
        "purpose": facts.purpose.value,
        "guest": Person(facts.guest_name, given_name(facts.guest_name), facts.guest_locale or ""),
        "property": Place(facts.property_name, facts.property_address, facts.time_zone),
        "check_in": check_in,
        "check_out": check_out,
        "nights": nights,
        "code": facts.code,
        "all_access_codes": _access_codes(facts, zone, locale, check_in, check_out),
        "guidebook_url": facts.guidebook_url,
        "host": Contact(facts.host_name, facts.host_email, facts.host_phone),
        "reservation": Booking(facts.reference, facts.guests),
    }


def _access_codes(
    facts: MessageFacts, zone: ZoneInfo, locale: Locale, check_in: Moment, check_out: Moment
) -> AccessCodes:
    """Each lock with the code to type there: the grant's PIN, or an offline keypad's code."""
    offline = {access.lock_name: access for access in facts.offline_codes}
    codes = []
    for name in facts.lock_names:
        access = offline.get(name)
        if access is None:
            codes.append(AccessCode(name, facts.code, check_in, check_out))
        else:
            opens, closes = (_moment(t, zone, locale) for t in (access.starts_at, access.ends_at))
            codes.append(AccessCode(name, access.code, opens, closes, " ".join(access.rules)))
    return AccessCodes(codes)


def canonical_locale(raw: str) -> str:
    """A language tag as doorcode keys templates by (``pt-BR``), or InvalidRequest."""
    try:
        locale = Locale.parse(raw.strip().replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError) as err:
        raise InvalidRequest(f"unknown locale {raw!r}; use a tag like en, fr or pt-BR") from err
    parts = [locale.language, locale.script, locale.territory]
    return "-".join(part for part in parts if part)


def locale_chain(guest_locale: str | None) -> tuple[str, ...]:
    """The template locales to try for a guest, most specific first, English last."""
    chain: list[str] = []
    if guest_locale:
        try:
            tag = canonical_locale(guest_locale)
        except InvalidRequest:
            tag = ""
        parts = tag.split("-")
        chain.extend("-".join(parts[:size]) for size in range(len(parts), 0, -1) if tag)
    return tuple(dict.fromkeys([*chain, "en"]))


def formatting_locale(template_locale: str, guest_locale: str | None) -> Locale:
    """Dates in the guest's own format when the template speaks their language."""
    template = Locale.parse(template_locale, sep="-")
    if guest_locale:
        try:
            guest = Locale.parse(canonical_locale(guest_locale), sep="-")
        except (InvalidRequest, UnknownLocaleError, ValueError):
            return template
        if guest.language == template.language:
            return guest
    return template


def _moment(instant: datetime, zone: ZoneInfo, locale: Locale) -> Moment:
    local = instant.astimezone(zone)
    day = _plain_spaces(format_date(local, "full", locale=locale))
    clock = _plain_spaces(format_time(local, "short", locale=locale))
    pattern = str(get_datetime_format("full", locale=locale)).replace("'", "")
    return Moment(day, clock, local.isoformat(), pattern.format(clock, day))


def _plain_spaces(text: str) -> str:
    """CLDR's no-break spaces ("3:00\u202fPM") as plain ones: an SMS stays in GSM-7."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


_NOT_A_GIVEN_NAME = frozenset(
    [
        "the",
        "a",
        "an",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "herr",
        "frau",
        "sr",
        "sra",
        "srta",
        "dona",
        "dom",
        "m",
        "mme",
        "mlle",
        "sig",
        "sig.ra",
        "die",
        "der",
        "das",
        "la",
        "le",
        "les",
        "los",
        "las",
        "el",
        "il",
        "os",
        "as",
    ]
)
"""Words that open a name without being the guest's own: articles and titles."""

_FAMILY = frozenset(["family", "familie", "famille", "familia", "família", "famiglia", "gezin"])


def given_name(name: str) -> str:
    """The guest's given name, or the whole name when it has none to take; the messages and
    the guidebook greet a guest alike.

    "Ada Lovelace" is greeted as "Ada"; "The Schmidt family", "Dr Ruth Weiss" and
    "Familie Müller" are greeted by their whole name rather than as "The", "Dr", "Familie".
    """
    words = name.split()
    if not words:
        return ""
    folded = [word.casefold().rstrip(".,") for word in words]
    if folded[0] in _NOT_A_GIVEN_NAME or _FAMILY.intersection(folded):
        return " ".join(words)
    return words[0]
