"""What can go wrong talking to a lock's back-end, as exceptions named for what happened.

    ProviderError            base; ``retry_after`` says when to try again, if the back-end said
    ├── ProviderUnavailable  timeouts, refused connections, 5xx: try again soon
    ├── LockOffline          the back-end answers but the device does not (battery, Wi-Fi, hub)
    ├── RateLimited          the back-end asked us to slow down (HTTP 429, with Retry-After)
    ├── NoSpaceLeft          the lock's code memory is full
    ├── CodeRefused          the lock's rules refuse this code (length, alphabet, firmware rules)
    ├── DuplicateCode        the lock already holds this PIN (ours or someone else's)
    ├── ProviderAuthFailed   credentials missing, expired or revoked
    ├── ProviderNotConfigured  no account (or no back-end of that kind) serves the lock
    ├── NotSupported         the back-end or device cannot do this at all (declared abilities)
    ├── CodeNotFound         no code by that id on the lock (someone deleted it)
    ├── UnknownDevice        the back-end does not know the device
    └── WebhookRefused       a pushed request whose signature or body does not check out

Adapters translate their client's exceptions here, at the edge, and nowhere else:

    except httpx.TimeoutException as err:
        raise ProviderUnavailable("the lock cloud timed out") from err

Messages are shown to operators and stored as ``last_error``: they never carry a code, a key
or a token. ``sync/retry.py`` maps each type to how soon, and how wide, to try again.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "CodeNotFound",
    "CodeRefused",
    "DuplicateCode",
    "LockOffline",
    "NoSpaceLeft",
    "NotSupported",
    "ProviderAuthFailed",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderUnavailable",
    "RateLimited",
    "UnknownDevice",
    "WebhookRefused",
]


class ProviderError(Exception):
    """Base of every failure a lock back-end reports; the reconciler catches exactly this."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """A transient failure: timeout, connection error, server error."""


class LockOffline(ProviderError):
    """The device cannot be reached through its back-end right now."""


class RateLimited(ProviderError):
    """Too many requests; ``retry_after`` is how long the back-end asked us to wait."""


class NoSpaceLeft(ProviderError):
    """The lock holds as many codes as it can."""


class CodeRefused(ProviderError):
    """The lock's own rules refuse the code; retrying the same code will not help."""


class DuplicateCode(ProviderError):
    """The lock already holds a code with this PIN."""


class ProviderAuthFailed(ProviderError):
    """The back-end refused our credentials; an operator must reconnect the account."""


class CodeNotFound(ProviderError):
    """The code id is not on the lock (any more)."""


class UnknownDevice(ProviderError):
    """The back-end has no device by that id."""


class ProviderNotConfigured(ProviderError):
    """The lock has no provider account, or this deployment has no back-end of its kind.

    A configuration gap an operator closes (``doorcode provider connect``), not a lock fault:
    the lock waits for its account instead of being retried like an unreachable device.
    """


class NotSupported(ProviderError):
    """The back-end or the device cannot do this (see ``LockProvider.abilities``)."""


class WebhookRefused(ProviderError):
    """A webhook whose signature is missing or wrong, or whose body cannot be read.

    Raised by the ``parse_<vendor>_webhook`` functions before anything is believed; the
    receiving endpoint answers 401 (signature) or 400 (body) and records nothing.
    """
