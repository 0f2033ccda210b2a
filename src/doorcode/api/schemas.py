"""Request and response bodies: the API's public contract, described in OpenAPI."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from doorcode.domain.code_policy import MAX_CODE_LENGTH, MIN_CODE_LENGTH, Alphabet
from doorcode.domain.errors import UnknownTimeZone
from doorcode.domain.reservations import (
    EMAIL_PATTERN,
    LOCALE_PATTERN,
    PHONE_PATTERN,
    ReservationStatus,
    check_out_not_before,
    wall_clock_time,
)
from doorcode.domain.windows import zone_named

__all__ = [
    "AlertBody",
    "CapabilitiesBody",
    "CodeBody",
    "EventBody",
    "GrantBody",
    "GrantLockCodeBody",
    "GuestBody",
    "Instant",
    "KeypadBody",
    "LockBody",
    "LockCodeBody",
    "LockCodesBody",
    "LockSyncBody",
    "ManualGrantBody",
    "NewLockBody",
    "PropertyBody",
    "PropertyChangesBody",
    "PropertyInputBody",
    "ReservationBody",
    "ReservationInputBody",
    "RevokeBody",
]

CodeLength = Annotated[int, Field(ge=MIN_CODE_LENGTH, le=MAX_CODE_LENGTH)]
LocalTime = Annotated[
    time,
    AfterValidator(wall_clock_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "description": "Wall-clock time at the property, without an offset (HH:MM).",
            "examples": ["15:00"],
        }
    ),
]
"""A local time of day: JSON Schema's ``time`` format would demand an offset, which a
check-in hour at the property does not have; one that carries an offset is refused."""
NUMBER = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def _instant_text(value: object) -> object:
    """An instant arrives as RFC 3339 text; pydantic alone would read 0.5 as a unix time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or NUMBER.fullmatch(value):
        raise ValueError("give a date-time with its offset, such as 2026-11-23T09:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC: every instant is stored so, and one that has no UTC form is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError as err:  # 0001-01-01T00:00+01:00 is a year before datetime's first
        raise ValueError("this instant is out of range") from err


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_in_utc)]
"""A moment: RFC 3339 text with an offset (the schema's ``date-time``), never a number."""


def _date_text(value: object) -> object:
    """A date arrives as "YYYY-MM-DD"; pydantic alone would read 0 or "86400" as 1970."""
    if isinstance(value, date) or (isinstance(value, str) and not NUMBER.fullmatch(value)):
        return value
    raise ValueError("give a date as YYYY-MM-DD")


CalendarDate = Annotated[date, BeforeValidator(_date_text)]
"""A day (the schema's ``date``): text, never a number of seconds."""
LeadMinutes = Annotated[
    int,
    Field(ge=0, le=30 * 24 * 60, description="Minutes before a window its code goes on a lock."),
]
LockCodeStatusName = Literal[
    "pending",
    "waiting_for_lead_time",
    "waiting_for_space",
    "waiting_for_code",
    "not_programmable",
    "setting",
    "accepted",
    "set",
    "failed",
    "removing",
    "removed",
]
RevealHours = Annotated[
    int, Field(ge=0, le=14 * 24, description="Hours before check-in the guidebook shows codes.")
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Reference = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(max_length=500, description="Street address, for guest messages.")]
TurnoverHolder = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    Field(
        max_length=200,
        description="Who gets a code from each check-out to the next check-in (a cleaner); "
        "empty: no turnover codes.",
        examples=["Marta (cleaner)"],
    ),
]
TurnoverMaxHours = Annotated[
    int,
    Field(
        ge=1,
        le=14 * 24,
        description="The longest a turnover code lasts, in hours (also its length after a stay "
        "with none following).",
    ),
]


NOT_NULL_SETTINGS = (
    "name",
    "time_zone",
    "check_in_time",
    "check_out_time",
    "code_length",
    "code_alphabet",
    "native_lead_minutes",
    "unscheduled_lead_minutes",
    "code_reveal_hours",
    "backup_codes",
    "arrival_notices",
    "no_show_time",
    "turnover_max_hours",
)
"""The property settings that always have a value: PATCH refuses ``null`` for them."""


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


def _known_zone(name: str) -> str:
    try:
        zone_named(name)
    except UnknownTimeZone as err:
        raise ValueError(f"unknown time zone {name!r}") from err
    return name


class PropertyInputBody(Strict):
    """A new property."""

    name: Name
    time_zone: str = Field(examples=["Europe/Lisbon"])
    check_in_time: LocalTime = time(15, 0)
    check_out_time: LocalTime = time(11, 0)
    code_length: CodeLength = 6
    code_alphabet: Alphabet = Alphabet.NUMERIC
    external_id: Reference | None = None
    native_lead_minutes: LeadMinutes = 72 * 60
    unscheduled_lead_minutes: LeadMinutes = 60
    address: Address = ""
    code_reveal_hours: RevealHours = 48
    backup_codes: bool = Field(
        default=False, description="Keep a backup code on the locks, released on request."
    )
    arrival_notices: bool = Field(
        default=True,
        description="Tell the host at a guest's first opening, or when none by no_show_time.",
    )
    no_show_time: LocalTime = Field(
        default=time(23, 0), description="Local time on the arrival day of the no-show notice."
    )
    turnover_holder: TurnoverHolder = ""
    turnover_max_hours: TurnoverMaxHours = 24

    _zone = field_validator("time_zone")(_known_zone)


class PropertyChangesBody(Strict):
    """Settings to change; absent fields stay as they are.

    ``null`` means "no value", which only ``external_id`` (the property is then no longer found
    by a PMS's listing id), ``address`` and ``turnover_holder`` (no turnover codes) can have.
    Every other field refuses it, naming the field: leave a field out to keep it.
    """

    model_config = ConfigDict(json_schema_extra=lambda schema: _not_nullable(schema))

    name: Name | None = None
    time_zone: str | None = Field(default=None, examples=["Europe/Lisbon"])
    check_in_time: LocalTime | None = None
    check_out_time: LocalTime | None = None
    code_length: CodeLength | None = None
    code_alphabet: Alphabet | None = None
    external_id: Reference | None = Field(
        default=None, description="null clears it: no PMS listing finds the property then."
    )
    native_lead_minutes: LeadMinutes | None = None
    unscheduled_lead_minutes: LeadMinutes | None = None
    address: Address | None = Field(default=None, description="null clears it.")
    code_reveal_hours: RevealHours | None = None
    backup_codes: bool | None = None
    arrival_notices: bool | None = None
    no_show_time: LocalTime | None = None
    turnover_holder: TurnoverHolder | None = Field(
        default=None, description="null or empty: no turnover codes (current ones are revoked)."
    )
    turnover_max_hours: TurnoverMaxHours | None = None

    @field_validator(*NOT_NULL_SETTINGS, mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave it out to keep it; it cannot be null")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return None if name is None else _known_zone(name)

    @field_validator("address", "turnover_holder")
    @classmethod
    def _none_is_empty(cls, text: str | None) -> str:
        return text or ""


def _not_nullable(schema: dict[str, Any]) -> None:
    """The schema says what PATCH accepts: ``null`` only where it means something."""
    for name in NOT_NULL_SETTINGS:
        field = schema["properties"][name]
        field["anyOf"] = [each for each in field.get("anyOf", []) if each.get("type") != "null"]
        if len(field["anyOf"]) == 1:
            field.update(field.pop("anyOf")[0])
        field.pop("default", None)


class PropertyBody(BaseModel):
    """A property as stored."""

    id: str
    name: str
    external_id: str | None
    time_zone: str
    check_in_time: LocalTime
    check_out_time: LocalTime
    code_length: int
    code_alphabet: Alphabet
    native_lead_minutes: int
    unscheduled_lead_minutes: int
    lock_ids: list[str]
    address: str = ""
    code_reveal_hours: int = 48
    backup_codes: bool = False
    arrival_notices: bool = True
    no_show_time: LocalTime = time(23, 0)
    turnover_holder: str = ""
    turnover_max_hours: int = 24


class ConstraintsBody(Strict):
    """Rules the lock's firmware enforces (as Seam's ``code_constraints`` report them)."""

    no_zeros: bool = False
    forbidden_prefixes: list[str] = Field(default_factory=list)
    forbidden_substrings: list[str] = Field(default_factory=list)
    min_distinct_symbols: int = Field(default=1, ge=1, le=MAX_CODE_LENGTH)
    no_all_same: bool = False
    no_sequence: bool = False
    no_triple_run: bool = False


class CapabilitiesBody(Strict):
    """What the lock can do."""

    code_lengths: list[CodeLength] = Field(default_factory=lambda: list(range(4, 11)), min_length=1)
    alphabet: Alphabet = Alphabet.NUMERIC
    constraints: ConstraintsBody = Field(default_factory=ConstraintsBody)
    max_codes: int | None = Field(default=None, ge=1)
    native_scheduling: bool = True
    online: bool = True
    offline_codes: bool = False
    enter_key: bool = True


class NewLockBody(Strict):
    """A lock to record."""

    name: Name
    provider: str = Field(default="virtual", min_length=1, max_length=32)
    account: Reference | None = Field(
        default=None, description="The provider account (id or label); default: the kind's first."
    )
    external_id: Reference | None = None
    capabilities: CapabilitiesBody = Field(default_factory=CapabilitiesBody)


class LockSyncBody(BaseModel):
    """How the lock's last reconcile pass went."""

    synced_at: datetime | None
    next_sync_at: datetime | None
    error: str | None
    unmanaged_codes: int = Field(description="Codes on the lock set outside doorcode.")


class LockHealthBody(BaseModel):
    """The lock's health as its back-end last reported it; None where it does not say."""

    online: bool | None
    battery_percent: int | None
    last_contact_at: datetime | None
    checked_at: datetime | None


class LockBody(BaseModel):
    """A lock as stored."""

    id: str
    name: str
    provider: str
    account_id: str | None
    external_id: str
    capabilities: dict[str, Any]
    property_ids: list[str]
    sync: LockSyncBody
    health: LockHealthBody


class LockCodeBody(BaseModel):
    """One grant on one lock: desired against actual (never the code itself)."""

    grant_id: str
    kind: str
    holder: str
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    status: LockCodeStatusName
    desired: Literal["present", "absent"]
    actual: Literal["present", "absent"]
    provider_code_id: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    updated_at: datetime | None


class LockCodesBody(BaseModel):
    """A lock and where each of its grants' codes stands."""

    lock: LockBody
    codes: list[LockCodeBody]


class KeypadBody(Strict):
    """A code typed at a virtual lock's keypad."""

    code: str = Field(min_length=1, max_length=16, pattern=r"^[0-9A-Z]+$")
    at: Instant | None = None

    def __repr__(self) -> str:
        return "KeypadBody(code=***)"


class GuestBody(Strict):
    """Who is staying."""

    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    locale: str | None = Field(default=None, max_length=16, pattern=LOCALE_PATTERN)
    count: int | None = Field(default=None, ge=1, le=100)


class ReservationInputBody(Strict):
    """A reservation to create or update, identified by (source, external id)."""

    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description=(
            "Where the booking comes from. Omitted: the source that already knows this "
            "external id (422 if several do), else 'api'."
        ),
    )
    external_id: Reference
    property: Reference = Field(description="Property id, external id or name.")
    status: ReservationStatus = ReservationStatus.CONFIRMED
    check_in: CalendarDate
    check_out: CalendarDate
    check_in_time: LocalTime | None = Field(
        default=None, description="Omit for the property default."
    )
    check_out_time: LocalTime | None = None
    guest: GuestBody = Field(
        default_factory=GuestBody,
        description=(
            "Contact details to record. On an update, a field left out or empty keeps the "
            "stored value: a booking re-sent without its guest never loses them."
        ),
    )
    booking_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The channel's or PMS's own number for the booking.",
    )

    @field_validator("check_out")
    @classmethod
    def _check_out_after_check_in(cls, check_out: date, info: ValidationInfo) -> date:
        """Reported on check_out, the field to correct, not on the body as a whole."""
        return check_out_not_before(info.data.get("check_in"), check_out)


class ReservationBody(BaseModel):
    """A reservation as stored, with the id of its guest grant when it has one."""

    id: str
    source: str
    external_id: str
    property_id: str
    status: ReservationStatus
    check_in: date
    check_out: date
    check_in_time: LocalTime | None
    check_out_time: LocalTime | None
    starts_at: datetime
    ends_at: datetime
    guest: GuestBody
    grant_id: str | None
    booking_reference: str | None = Field(
        default=None, description="The channel's or PMS's own number, e.g. Airbnb's HM… code."
    )
    change: Literal["created", "updated", "unchanged"] | None = None


class ManualGrantBody(Strict):
    """A staff, master or manual code for a property's locks or for chosen locks."""

    kind: Literal["staff", "master", "manual"] = "manual"
    holder: str = Field(default="", max_length=200)
    starts_at: Instant
    ends_at: Instant
    property: Reference | None = None
    locks: list[Reference] = Field(default_factory=list)
    reservation_id: str | None = None
    code: str | None = Field(default=None, min_length=MIN_CODE_LENGTH, max_length=MAX_CODE_LENGTH)
    code_length: CodeLength | None = None

    @model_validator(mode="after")
    def _has_a_target_and_a_window(self) -> ManualGrantBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if not self.property and not self.locks:
            raise ValueError("give a property or at least one lock")
        return self

    def __repr__(self) -> str:
        return f"ManualGrantBody(kind={self.kind!r}, code=***)"


class GrantLockCodeBody(BaseModel):
    """Where the grant's code stands on one of its locks."""

    lock_id: str
    status: LockCodeStatusName
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    updated_at: datetime | None


class GrantBody(BaseModel):
    """A grant; its code is fetched separately (and audited) from ``/grants/{id}/code``."""

    id: str
    kind: str
    holder: str
    state: str
    reservation_id: str | None
    property_id: str | None
    lock_ids: list[str]
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    version: int
    lock_codes: list[GrantLockCodeBody]


class OfflineCodeBody(BaseModel):
    """An offline keypad's own code for the grant, and the window it really opens."""

    lock_id: str
    lock_name: str
    code: str
    starts_at: datetime
    ends_at: datetime
    vendor: str | None = None
    """The cloud that computed it (``ttlock``, ``seam``); null for doorcode's own."""
    rules: list[str] = Field(default_factory=list)
    """The vendor's conditions, as the guest is told them."""


class CodeBody(BaseModel):
    """A grant's code in clear, and the codes of its offline keypads, which differ."""

    grant_id: str
    code: str
    offline_codes: list[OfflineCodeBody] = Field(default_factory=list)


class RevokeBody(Strict):
    """Why a grant is revoked; kept in the audit log."""

    reason: str = Field(default="", max_length=500)


class EventBody(BaseModel):
    """An audit event."""

    id: int
    occurred_at: datetime
    actor: str
    kind: str
    subject_type: str
    subject_id: str
    reason: str
    details: dict[str, Any]


class AlertBody(BaseModel):
    """Something an operator must look at; ``cleared_at`` is set once it resolved itself."""

    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    raised_at: datetime
    updated_at: datetime
    cleared_at: datetime | None
