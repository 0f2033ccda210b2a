"""Outbound HTTP for message channels: httpx's failures mapped to what they mean for a send.

Whether a failed request may be repeated depends on how far it got. If the connection was
never made, or the request never fully written, the provider cannot have acted on it: try
again. If the request was written and the answer lost (a read timeout, a dropped
connection), the provider may have sent the message: resending could reach the guest twice,
so the outcome is unknown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from doorcode.notify.errors import OutcomeUnknown, PermanentFailure, TransientFailure

__all__ = ["TIMEOUT", "json_of", "post", "retry_after"]

TIMEOUT = httpx.Timeout(30.0, connect=10.0)

NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
MAYBE_SENT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def post(client: httpx.Client, provider: str, url: str, **request: Any) -> httpx.Response:
    """POST to ``url``; a transport failure becomes a delivery error naming ``provider``."""
    try:
        return client.post(url, **request)
    except NOT_SENT as err:
        raise TransientFailure(f"cannot reach {provider}: {type(err).__name__}") from err
    except MAYBE_SENT as err:
        reason = f"{provider} did not answer after the request was sent: {type(err).__name__}"
        raise OutcomeUnknown(reason) from err
    except httpx.HTTPError as err:
        raise PermanentFailure(f"cannot call {provider}: {type(err).__name__}") from err


def retry_after(response: httpx.Response) -> timedelta | None:
    """The wait a provider asks for in ``Retry-After`` (seconds), if it gives one."""
    value = response.headers.get("Retry-After", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:  # "²" is a digit to isdigit
        return None
    return timedelta(seconds=int(value))


def json_of(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or an empty one if it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
