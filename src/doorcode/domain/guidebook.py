"""When a guest's guidebook shows the codes, and what it says otherwise.

The guidebook shows a stay's codes from ``reveal_hours`` before check-in until check-out,
never outside: before that it says when they will appear, afterwards that the stay is over.
A link stays readable for a while after check-out (the guest may want the address or to
say they left) and then answers like an unknown link, as does a cancelled stay's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.domain.windows import TimeWindow

__all__ = ["DEFAULT_REVEAL_HOURS", "LINK_LIFETIME_AFTER_STAY", "GuideStage", "GuideTiming"]

DEFAULT_REVEAL_HOURS = 48
LINK_LIFETIME_AFTER_STAY = timedelta(days=14)
DEPARTURE_GRACE = timedelta(hours=12)


class GuideStage(enum.StrEnum):
    """Where a stay stands, as its guidebook sees it."""

    UNCONFIRMED = "unconfirmed"
    """Pending: no codes yet, and none until the booking is confirmed."""
    WAITING = "waiting"
    """Confirmed, but the codes appear later (``reveal_at``)."""
    READY = "ready"
    """Codes shown; the stay has not begun."""
    STAYING = "staying"
    """Codes shown; between check-in and check-out."""
    OVER = "over"
    """After check-out: no codes, the link still reads."""
    EXPIRED = "expired"
    """Cancelled, or long over: the link answers like an unknown one."""


@dataclass(frozen=True, slots=True)
class GuideTiming:
    """A stay's window and its property's reveal rule; answers questions about ``now``."""

    window: TimeWindow
    reveal_hours: int = DEFAULT_REVEAL_HOURS

    @property
    def reveal_at(self) -> datetime:
        """When the codes appear."""
        return self.window.starts_at - timedelta(hours=self.reveal_hours)

    def stage(self, status: str, now: datetime) -> GuideStage:
        """The stage at ``now`` of a stay whose reservation has ``status``."""
        if status == "cancelled" or now >= self.window.ends_at + LINK_LIFETIME_AFTER_STAY:
            return GuideStage.EXPIRED
        if now >= self.window.ends_at:
            return GuideStage.OVER
        if status != "confirmed":
            return GuideStage.UNCONFIRMED
        if now < self.reveal_at:
            return GuideStage.WAITING
        return GuideStage.READY if now < self.window.starts_at else GuideStage.STAYING

    def may_report_arrival(self, status: str, now: datetime) -> bool:
        """A guest can say they arrived from check-in until check-out, when the code opens.

        Not from the moment the code is shown (two days ahead): an "arrival" the day before
        is a mis-tap, and the host would believe the guest in.
        """
        return self.stage(status, now) is GuideStage.STAYING

    def may_report_departure(self, status: str, now: datetime) -> bool:
        """A guest can say they left from check-in until a while after check-out."""
        stage = self.stage(status, now)
        return stage is GuideStage.STAYING or (
            stage is GuideStage.OVER and now < self.window.ends_at + DEPARTURE_GRACE
        )
