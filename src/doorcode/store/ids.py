"""Identifiers: a short type prefix and 80 random bits, readable in logs and on the CLI."""

import base64
import secrets

__all__ = ["new_guide_token", "new_id"]


def new_id(prefix: str) -> str:
    """A fresh id such as ``grt_k3d9x2mq7vbn4t5a``; the prefix says what it names."""
    random_part = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return f"{prefix}_{random_part}"


def new_guide_token() -> str:
    """A guidebook link's secret part: 192 random bits, URL-safe, never derived from an id."""
    return secrets.token_urlsafe(24)
