"""Request and response bodies: the API's public contract, described in OpenAPI."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
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
    "KeypadBody",
    "LockBody",
    "LockCodeBody",
    "LockCodesBody",
    "LockSyncBody",
    "ManualGrantBody",
    "NewLockBody",
    "PageLimit",
    "PageOffset",
    "PropertyBody",
    "PropertyChangesBody",
    "PropertyInputBody",
    "ReservationBody",
    "ReservationInputBody",
    "RevokeBody",
]

CodeLength = Annotated[int, Field(ge=MIN_CODE_LENGTH, le=MAX_CODE_LENGTH)]
PageLimit = Annotated[int, Query(ge=1, le=1000, description="How many items at most.")]
PageOffset = Annotated[int, Query(ge=0, le=10_000_000, description="How many items to skip.")]
LocalTime = Annotated[
    time,
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
check-in hour at the property does not have."""
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

    _zone = field_validator("time_zone")(_known_zone)


class PropertyChangesBody(Strict):
    """Settings to change; absent fields stay as they are."""

    name: Name | None = None
    time_zone: str | None = None
    check_in_time: LocalTime | None = None
    check_out_time: LocalTime | None = None
    code_length: CodeLength | None = None
    code_alphabet: Alphabet | None = None
    external_id: Reference | None = None
    native_lead_minutes: LeadMinutes | None = None
    unscheduled_lead_minutes: LeadMinutes | None = None
    address: Address | None = Field(default=None, description="null clears it.")
    code_reveal_hours: RevealHours | None = None
    backup_codes: bool | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        return None if name is None else _known_zone(name)

    @field_validator("address")
    @classmethod
    def _no_address_is_empty(cls, address: str | None) -> str:
        return address or ""

    @field_validator("code_reveal_hours")
    @classmethod
    def _reveal_hours_are_a_number(cls, hours: int | None) -> int:
        if hours is None:
            raise ValueError("leave it out to keep it; it cannot be null")
        return hours


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
    at: AwareDatetime | None = None

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

    source: str = Field(default="api", min_length=1, max_length=64)
    external_id: Reference
    property: Reference = Field(description="Property id, external id or name.")
    status: ReservationStatus = ReservationStatus.CONFIRMED
    check_in: date
    check_out: date
    check_in_time: LocalTime | None = Field(
        default=None, description="Omit for the property default."
    )
    check_out_time: LocalTime | None = None
    guest: GuestBody = Field(default_factory=GuestBody)

    @model_validator(mode="after")
    def _check_out_after_check_in(self) -> ReservationInputBody:
        if self.check_out < self.check_in:
            raise ValueError("check_out must not be before check_in")
        return self


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
    change: Literal["created", "updated", "unchanged"] | None = None


class ManualGrantBody(Strict):
    """A staff, master or manual code for a property's locks or for chosen locks."""

    kind: Literal["staff", "master", "manual"] = "manual"
    holder: str = Field(default="", max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
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
