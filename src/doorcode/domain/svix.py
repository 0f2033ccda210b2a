"""Svix webhook signatures, checked the same way for every sender that uses Svix.

Guesty (reservations) and Seam (lock events) both deliver through Svix: headers ``svix-id``,
``svix-timestamp`` and ``svix-signature: v1,<base64>`` (``webhook-*`` on newer senders), the
signature an HMAC-SHA256 over ``"<id>.<timestamp>.<body>"`` keyed with the base64 part of a
``whsec_`` secret. Pure: the instant to judge the timestamp by is an argument. Each caller
turns ``SignatureError`` into its own layer's error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

__all__ = ["TOLERANCE", "SignatureError", "same_text", "signed_within", "verify_svix_signature"]

TOLERANCE = timedelta(minutes=5)
MAX_MESSAGE_ID = 200


class SignatureError(Exception):
    """A signature that does not prove the request: ``code`` for machines, text for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def verify_svix_signature(
    secret: str, headers: Mapping[str, str], body: bytes, now: datetime
) -> tuple[str, datetime]:
    """The message id and signing instant of a request whose Svix signature matches.

    ``headers`` names are lower-cased. Any one matching ``v1`` signature passes (Svix sends
    several while a secret rotates).
    """
    message_id = headers.get("svix-id") or headers.get("webhook-id")
    timestamp = headers.get("svix-timestamp") or headers.get("webhook-timestamp")
    signatures = headers.get("svix-signature") or headers.get("webhook-signature")
    if not message_id or not timestamp or not signatures:
        raise SignatureError(
            "missing_signature", "svix-id, svix-timestamp and svix-signature are required"
        )
    signed_at = signed_within(timestamp, now)
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_svix_key(secret), content, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    offered = [part.partition(",") for part in signatures.split()]
    if not any(version == "v1" and same_text(expected, value) for version, _, value in offered):
        raise SignatureError("invalid_signature", "no svix-signature matches the body")
    message_id = message_id.strip()
    if not message_id or len(message_id) > MAX_MESSAGE_ID:
        raise SignatureError("invalid_delivery_id", "the delivery id must be 1–200 characters")
    return message_id, signed_at


def signed_within(timestamp: str, now: datetime) -> datetime:
    """The instant a unix-seconds ``timestamp`` names, if within ``TOLERANCE`` of ``now``."""
    if not timestamp.strip().isdigit() or len(timestamp.strip()) > 12:
        raise SignatureError("invalid_timestamp", "the timestamp must be unix seconds")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - signed_at) > TOLERANCE:
        raise SignatureError(
            "timestamp_out_of_window",
            "the request was signed more than 5 minutes away from now; check the sender's clock",
        )
    return signed_at


def same_text(expected: str, presented: str) -> bool:
    """Constant-time equality of two strings, any characters included.

    ``hmac.compare_digest`` refuses non-ASCII ``str`` with a TypeError, and a header is
    whatever a sender puts in it; as bytes, a stranger's junk is simply unequal.
    """
    return hmac.compare_digest(expected.encode(), presented.encode())


def _svix_key(secret: str) -> bytes:
    """Svix secrets read ``whsec_<base64>``; the key is the decoded part."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()
