"""What any lock cloud's HTTP transport can do wrong, translated once for every adapter.

Timeouts and refused connections are transient; a 429 carries the back-end's own wait in
``Retry-After``; a 5xx is the cloud's fault. Vendor-specific answers (TTLock's ``errcode``,
Nuki's 404 on a code) stay in each adapter's client.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

import httpx

from doorcode.locks.errors import ProviderUnavailable, RateLimited

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "raise_for_transport",
    "read_as",
    "retry_after",
    "translated_transport",
]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_RETRY_AFTER = timedelta(seconds=60)
"""How long to wait after a rate refusal that does not say how long."""


def retry_after(response: httpx.Response) -> timedelta:
    """The wait a 429 asks for: ``Retry-After`` in seconds, else a minute."""
    header = response.headers.get("Retry-After", "")
    try:
        return timedelta(seconds=max(1, int(header)))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def raise_for_transport(response: httpx.Response, vendor: str) -> None:
    """Raise for the answers every cloud gives the same meaning: 429 and 5xx."""
    if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
        raise RateLimited(f"{vendor} asked us to slow down", retry_after=retry_after(response))
    if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
        raise ProviderUnavailable(f"{vendor} answered HTTP {response.status_code}")


@contextlib.asynccontextmanager
async def translated_transport(vendor: str) -> AsyncIterator[None]:
    """Turn httpx's transport failures into ``ProviderUnavailable`` at the edge."""
    try:
        yield
    except httpx.TimeoutException as err:
        raise ProviderUnavailable(f"{vendor} timed out") from err
    except httpx.TransportError as err:
        raise ProviderUnavailable(f"{vendor} could not be reached") from err


def read_as(vendor: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Turn an answer of an unexpected shape (a field missing, a list for an object, text for a
    number) into ``ProviderUnavailable``, so a cloud's bad day fails one lock, not a sweep."""

    def decorate(call: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(call)
        async def read(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await call(*args, **kwargs)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
                raise ProviderUnavailable(f"{vendor} answered in an unexpected shape") from err

        return read

    return decorate
