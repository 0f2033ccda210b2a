"""What a stored delivery must not keep: credentials in headers, secrets and codes in bodies.

Deliveries are kept so an operator can see and replay what arrived, which needs the body;
but a PMS body can carry a door code (Hostaway's ``doorCode``), card digits or tokens. Those
values are replaced before anything is stored. Guest contact details stay: they are the
booking itself, and they are never written to a log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from doorcode.sources.json_bodies import NestedTooDeep, UnreadableJson, read_json

__all__ = ["REDACTED", "redact_body", "redact_headers"]

REDACTED = "***"
MAX_HEADER_VALUE = 500
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-doorcode-signature",
        "svix-signature",
        "webhook-signature",
    }
)
SECRET_KEYS = frozenset({"pin", "cvc", "cvv", "code"})
SECRET_KEY_PARTS = (
    "password",
    "secret",
    "token",
    "apikey",
    "api_key",
    "doorcode",
    "accesscode",
    "lockcode",
    "passcode",
    "ccnumber",
    "cardnumber",
)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers worth keeping, credentials masked and long values cut."""
    return {
        name: REDACTED if name.lower() in SECRET_HEADERS else value[:MAX_HEADER_VALUE]
        for name, value in headers.items()
    }


def redact_body(body: bytes) -> bytes:
    """The body with secret-looking JSON fields masked; unchanged when there are none."""
    try:
        document = read_json(body)
    except NestedTooDeep:
        return REDACTED.encode()  # too deep to search for secrets: keep none of it
    except UnreadableJson:
        return body
    redacted, changed = _redact(document)
    if not changed:
        return body
    return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()


def _redact(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        result: dict[str, Any] = {}
        for key, item in value.items():
            if _is_secret(key) and item not in (None, ""):
                result[key], changed = REDACTED, True
            else:
                result[key], inner = _redact(item)
                changed = changed or inner
        return result, changed
    if isinstance(value, list):
        items = [_redact(item) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or any(part in lowered for part in SECRET_KEY_PARTS)
