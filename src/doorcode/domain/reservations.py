"""Reservations as the domain sees them: a stay at a property, and whether it is confirmed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo

from doorcode.domain.errors import InvalidWindow
from doorcode.domain.windows import TimeWindow, check_day, stay_window

__all__ = [
    "CONTACT_PATTERN_WORDS",
    "EMAIL_PATTERN",
    "LOCALE_PATTERN",
    "MAX_STAY_NIGHTS",
    "PHONE_PATTERN",
    "ReservationStatus",
    "Stay",
    "check_out_not_before",
    "wall_clock_time",
]


def check_out_not_before(check_in: date | None, check_out: date) -> date:
    """``check_out``, or ``ValueError`` naming both dates when it comes before check-in.

    For the request models' validators, which report it on ``check_out``: the field to fix.
    """
    if check_in is not None and check_out < check_in:
        raise ValueError(f"check-out {check_out} is before check-in {check_in}")
    return check_out


def wall_clock_time(value: time) -> time:
    """``value`` if it is a time on the property's wall clock; raise ``ValueError`` if not.

    Check-in hours and message times are local to the property, whose zone decides the
    instant. A time with its own offset ("10:00+05:00") says something else, and dropping
    the offset silently would move the guest's code by hours.
    """
    if value.tzinfo is not None:
        raise ValueError("a time at the property has no offset: give HH:MM")
    return value


# What every entry point (API, webhooks) accepts as a guest's contact details: loose enough for
# what booking channels send, strict enough that a message can be addressed with it. An address
# holds none of the characters that make a header name several recipients or a display name
# (``a@b.c,postmaster``, ``<a@b.c>``, ``team:a@b.c;``).
EMAIL_PATTERN = r'^[^@\s<>(),;:"\[\]\\]+@[^@\s<>(),;:"\[\]\\]+\.[^@\s<>(),;:"\[\]\\]+$'
PHONE_PATTERN = r"^\+?[0-9 ().-]{5,}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
CONTACT_PATTERN_WORDS = {
    EMAIL_PATTERN: "is not an email address like ada@example.org",
    PHONE_PATTERN: "is not a phone number like +351 210 000 000",
    LOCALE_PATTERN: "is not a language like en or pt-BR",
}
"""What a contact that missed its pattern should have been, in words: nobody reads a regex."""


class ReservationStatus(enum.StrEnum):
    """Only a confirmed reservation earns a grant."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


MAX_STAY_NIGHTS = 365
"""The longest stay accepted unless the deployment sets another (DOORCODE_MAX_STAY_NIGHTS)."""


@dataclass(frozen=True, slots=True)
class Stay:
    """Check-in and check-out as local dates, with optional times for early or late arrangements.

    A missing time means the property's default, so a stay keeps following the property if the
    host later moves the default check-in hour.
    """

    check_in: date
    check_out: date
    check_in_at: time | None = None
    check_out_at: time | None = None

    def __post_init__(self) -> None:
        check_day("check_in", self.check_in)
        check_day("check_out", self.check_out)
        if self.check_out < self.check_in:
            raise InvalidWindow("check-out date is before check-in date")

    @property
    def nights(self) -> int:
        """How many nights the stay spans by its dates."""
        return (self.check_out - self.check_in).days

    def check_length(self, max_nights: int) -> None:
        """Refuse a stay longer than ``max_nights``: a typo'd year, not a booking."""
        if self.nights > max_nights:
            raise InvalidWindow(
                f"a stay of {self.nights} nights is longer than the {max_nights} accepted"
            )

    def window(self, zone: ZoneInfo, default_in: time, default_out: time) -> TimeWindow:
        """The stay as a UTC window, computed on the property's wall clock."""
        return stay_window(
            self.check_in,
            self.check_in_at or default_in,
            self.check_out,
            self.check_out_at or default_out,
            zone,
        )
