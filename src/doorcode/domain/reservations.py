"""Reservations as the domain sees them: a stay at a property, and whether it is confirmed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo

from doorcode.domain.errors import InvalidWindow
from doorcode.domain.windows import TimeWindow, check_day, stay_window

__all__ = ["EMAIL_PATTERN", "LOCALE_PATTERN", "PHONE_PATTERN", "ReservationStatus", "Stay"]

# What every entry point (API, webhooks) accepts as a guest's contact details: loose enough for
# what booking channels send, strict enough that a message can be addressed with it.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9 ().-]{5,}$"
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"


class ReservationStatus(enum.StrEnum):
    """Only a confirmed reservation earns a grant."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


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

    def window(self, zone: ZoneInfo, default_in: time, default_out: time) -> TimeWindow:
        """The stay as a UTC window, computed on the property's wall clock."""
        return stay_window(
            self.check_in,
            self.check_in_at or default_in,
            self.check_out,
            self.check_out_at or default_out,
            zone,
        )
