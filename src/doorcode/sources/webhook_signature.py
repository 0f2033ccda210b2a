"""Proving a webhook came from its source: doorcode's HMAC scheme, Svix's, and basic auth.

doorcode's own scheme signs generic deliveries and every push doorcode sends back::

    X-Doorcode-Timestamp: 1796464800          unix seconds when the request was signed
    X-Doorcode-Delivery:  5b0c1a7e-...        the sender's id for this delivery
    X-Doorcode-Signature: sha256=<hex>        HMAC-SHA256(secret, b"<timestamp>." + body)

A request is refused when the timestamp is more than five minutes from doorcode's clock
(either way), and a retry must be signed afresh: the same id with the same timestamp twice
is a replay. Comparisons are constant-time.

Guesty delivers through Svix (``svix-id``, ``svix-timestamp``, ``svix-signature:
v1,<base64>``; HMAC-SHA256 over ``"<id>.<timestamp>.<body>"`` keyed with the base64 part of a
``whsec_`` secret). Hostaway does not sign: its webhook settings take a login and password
that it sends as HTTP basic auth, so doorcode checks those instead (login = the source id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from doorcode.domain.svix import (
    TOLERANCE,
    SignatureError,
    same_text,
    signed_within,
    verify_svix_signature,
)
from doorcode.sources.errors import SignatureRejected

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE",
    "Proof",
    "sign",
    "signed_headers",
    "verify_basic_auth",
    "verify_doorcode",
    "verify_svix",
]

TIMESTAMP_HEADER = "x-doorcode-timestamp"
SIGNATURE_HEADER = "x-doorcode-signature"
DELIVERY_HEADER = "x-doorcode-delivery"
MAX_DELIVERY_ID = 200


@dataclass(frozen=True, slots=True)
class Proof:
    """What an authenticated request told us about itself."""

    delivery_id: str | None = None
    signed_at: datetime | None = None

    @property
    def replay_key(self) -> str | None:
        """Delivery id and timestamp: seen twice, the second one is a replay."""
        if self.delivery_id is None or self.signed_at is None:
            return None
        return f"{self.delivery_id}@{int(self.signed_at.timestamp())}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Doorcode-Signature`` value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(secret: str, body: bytes, now: datetime, delivery_id: str) -> dict[str, str]:
    """The three headers that let a doorcode receiver check ``body``."""
    timestamp = int(now.timestamp())
    return {
        "X-Doorcode-Timestamp": str(timestamp),
        "X-Doorcode-Delivery": delivery_id,
        "X-Doorcode-Signature": sign(secret, timestamp, body),
    }


def verify_doorcode(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Proof:
    """Check doorcode's HMAC headers (names lower-cased); raise ``SignatureRejected``."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    delivery_id = headers.get(DELIVERY_HEADER)
    if not timestamp or not signature or not delivery_id:
        raise SignatureRejected(
            "missing_signature",
            "X-Doorcode-Timestamp, X-Doorcode-Delivery and X-Doorcode-Signature are required",
        )
    signed_at = _within_window(timestamp, now)
    if not _same(sign(secret, int(timestamp), body), signature.strip()):
        raise SignatureRejected("invalid_signature", "the signature does not match the body")
    return Proof(_delivery_id(delivery_id), signed_at)


def verify_svix(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Proof:
    """Check Svix's headers, as Guesty sends them (``domain.svix``, shared with Seam)."""
    try:
        message_id, signed_at = verify_svix_signature(secret, headers, body, now)
    except SignatureError as err:
        raise SignatureRejected(err.code, err.message) from err
    return Proof(message_id, signed_at)


def verify_basic_auth(login: str, password: str, headers: Mapping[str, str]) -> Proof:
    """Check HTTP basic auth: the only proof Hostaway can send (no timestamp, no id)."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise SignatureRejected("missing_credentials", "HTTP basic auth is required")
    try:
        presented = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise SignatureRejected("invalid_credentials", "malformed basic auth") from err
    expected = f"{login}:{password}".encode()
    if not hmac.compare_digest(presented, expected):
        raise SignatureRejected("invalid_credentials", "wrong login or password")
    return Proof()


def _within_window(timestamp: str, now: datetime) -> datetime:
    try:
        return signed_within(timestamp, now)
    except SignatureError as err:
        raise SignatureRejected(err.code, err.message) from err


def _delivery_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_DELIVERY_ID:
        raise SignatureRejected("invalid_delivery_id", "the delivery id must be 1–200 characters")
    return value


def _same(expected: str, presented: str) -> bool:
    return same_text(expected, presented)
