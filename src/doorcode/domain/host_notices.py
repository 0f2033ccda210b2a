"""What a guest can tell the host from the guidebook (seed 004: "trigger an email to you")."""

from __future__ import annotations

import enum

__all__ = ["HostNoticeKind", "HostNoticeStatus"]


class HostNoticeKind(enum.StrEnum):
    """Why the host hears from us; also the audit event each one goes with."""

    GUEST_ARRIVED = "guest_arrived"
    GUEST_LEFT = "guest_left"
    CODE_PROBLEM = "code_problem"
    NO_SHOW = "no_show"

    @property
    def event_kind(self) -> str:
        """The audit event recorded when a guest reports this."""
        return _EVENTS[self]


_EVENTS = {
    HostNoticeKind.GUEST_ARRIVED: "GuestArrived",
    HostNoticeKind.GUEST_LEFT: "GuestLeft",
    HostNoticeKind.CODE_PROBLEM: "GuestReportedCodeProblem",
    HostNoticeKind.NO_SHOW: "GuestNotArrivedYet",
}


class HostNoticeStatus(enum.StrEnum):
    """Where one notice to the host stands; ``unknown`` is never sent again."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
