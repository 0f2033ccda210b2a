"""What can go wrong with guest messages, named for what happened.

    InvalidTemplate (InvalidRequest)   a template refused at save time, with every problem

    DeliveryError                      a channel could not hand a message over
    ├── TransientFailure               not sent; the same request later may well work
    ├── PermanentFailure               not sent; repeating it will not help
    └── OutcomeUnknown                 the provider may have it: never resent automatically

Channel adapters translate their vendor's errors into these at the edge; the dispatcher
decides what each means for the delivery. Reasons never carry a code, a token, a password
or a full address (the dispatcher redacts them again before they are stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from doorcode.notify.sandbox import TemplateProblem
from doorcode.services.errors import InvalidRequest

__all__ = [
    "DeliveryError",
    "InvalidTemplate",
    "OutcomeUnknown",
    "PermanentFailure",
    "TransientFailure",
]


class InvalidTemplate(InvalidRequest):
    """A template that may not be saved; ``problems`` say where and why."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        super().__init__("the template is refused: " + "; ".join(map(str, problems)))
        self.problems = list(problems)


class DeliveryError(Exception):
    """A channel could not hand a message over; ``reason`` is safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryError):
    """Not sent (network down, rate limit, provider error 5xx): try again later."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """Not sent, and sending the same again will not help (bad number, refused, bad key)."""


class OutcomeUnknown(DeliveryError):
    """The request may have reached the provider; resending could reach the guest twice."""
