"""The generic reservation webhook body, version 1: what any source can POST to doorcode.

    {
      "version": 1,
      "external_id": "HX-1042",
      "property": "flat-1",
      "status": "confirmed",
      "check_in": "2026-12-04",
      "check_out": "2026-12-07",
      "check_in_time": "13:00",
      "guest": {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0000",
                "locale": "en-GB", "count": 2},
      "updated_at": "2026-11-20T08:15:00Z"
    }

The status is the whole truth about the booking (level, not edge): "confirmed" creates or
moves the guest's code, "pending" and "cancelled" withdraw it. ``updated_at`` or
``sequence`` (either; a sequence wins when both are sent) orders a source's updates: a body
older than one already applied changes nothing. Without them, the last delivery wins.

Types are strict (a date is a "YYYY-MM-DD" string, a count a number), unknown fields are
refused, and a future version 2 will be a new literal beside this one, never a change to it.
PMS adapters (``hostaway``, ``guesty``) translate their own payloads into this shape, so
every source passes the same checks.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from doorcode.domain.reservations import (
    EMAIL_PATTERN,
    LOCALE_PATTERN,
    PHONE_PATTERN,
    ReservationStatus,
    Stay,
    check_out_not_before,
    wall_clock_time,
)
from doorcode.services.reservations import Guest, ReservationDetails

__all__ = ["GuestV1", "ReservationPayloadV1"]

Reference = Annotated[str, Field(min_length=1, max_length=200)]
WallClock = Annotated[time, AfterValidator(wall_clock_time)]
"""A time at the property, "HH:MM"; one with an offset is refused, never silently cut."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GuestV1(_Strict):
    """Who is staying; only ``name`` is needed to label the code."""

    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=40, pattern=PHONE_PATTERN)
    locale: str | None = Field(default=None, max_length=16, pattern=LOCALE_PATTERN)
    count: int | None = Field(default=None, ge=1, le=100)


class ReservationPayloadV1(_Strict):
    """A reservation as a source describes it, identified by its ``external_id``."""

    version: Literal[1] = Field(description="The payload format; always 1 for this shape.")
    external_id: Reference = Field(description="The source's id for the booking.")
    property: Reference = Field(
        description="The property's external id (or its doorcode id, or exact name)."
    )
    status: ReservationStatus
    check_in: date = Field(description="Arrival, a local date at the property.")
    check_out: date = Field(description="Departure, a local date at the property.")
    check_in_time: WallClock | None = Field(default=None, description="Omit for the default.")
    check_out_time: WallClock | None = Field(default=None, description="Omit for the default.")
    guest: GuestV1 = Field(default_factory=GuestV1)
    updated_at: AwareDatetime | None = Field(
        default=None, description="When the source last changed the booking; orders updates."
    )
    sequence: int | None = Field(
        default=None, ge=0, le=2**62, description="A counter that grows with every change."
    )

    @field_validator("check_out")
    @classmethod
    def _check_out_after_check_in(cls, check_out: date, info: ValidationInfo) -> date:
        """Reported on check_out, the field to correct, not on the payload as a whole."""
        return check_out_not_before(info.data.get("check_in"), check_out)

    def ordering(self) -> int | None:
        """The source's version of this update: the sequence, else updated-at in µs."""
        if self.sequence is not None:
            return self.sequence
        if self.updated_at is not None:
            return int(self.updated_at.timestamp() * 1_000_000)
        return None

    def details(self, source: str) -> ReservationDetails:
        """The reservation to record, labelled with the source's name."""
        return ReservationDetails(
            source=source,
            external_id=self.external_id,
            property_ref=self.property,
            status=self.status,
            stay=Stay(self.check_in, self.check_out, self.check_in_time, self.check_out_time),
            guest=Guest(**self.guest.model_dump()),
        )
