"""What can go wrong with a delivery from a source, as exceptions that carry a machine reason.

    SourceError                  every refusal; ``reason`` is the machine-readable code
    ├── SignatureRejected        the request did not prove it came from the source (401)
    ├── ReplayedDelivery         the same delivery id and timestamp came before (409)
    ├── BodyTooLarge             the body is over the 1 MiB limit (413)
    ├── PayloadRejected          the body is not a reservation doorcode can record (422)
    └── CannotRecord             a valid booking that cannot get a code now (409)

``NotAReservation`` is not an error: a PMS event about something else (a message, a
listing) is stored as "ignored" and answered 200, so the PMS does not retry or alert.
Messages never quote a secret, a signature or a guest's contact details.
"""

from __future__ import annotations

__all__ = [
    "BodyTooLarge",
    "CannotRecord",
    "NotAReservation",
    "PayloadRejected",
    "ReplayedDelivery",
    "SignatureRejected",
    "SourceError",
]


class SourceError(Exception):
    """A delivery doorcode refuses; ``reason`` is stable, ``message`` is for people."""

    def __init__(self, reason: str, message: str, fields: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.fields = fields or []


class SignatureRejected(SourceError):
    """Missing, malformed, wrong or expired credentials."""


class ReplayedDelivery(SourceError):
    """An authentic delivery sent again with the same id and timestamp."""

    def __init__(self) -> None:
        super().__init__(
            "replayed_delivery",
            "this delivery id and timestamp were received before; sign a retry afresh",
        )


class BodyTooLarge(SourceError):
    """The body exceeds the limit every request has."""

    def __init__(self, limit: int) -> None:
        super().__init__("body_too_large", f"request bodies are limited to {limit} bytes")


class PayloadRejected(SourceError):
    """Not JSON, missing or mistyped fields, an unknown property or status, reversed dates."""


class CannotRecord(SourceError):
    """A booking that is fine in itself but cannot be given a code (no free code is left)."""


class NotAReservation(Exception):
    """The PMS told us about something other than a reservation."""
