"""API keys: created once and shown once; afterwards only a hash is kept.

A key reads ``dck_<prefix>_<secret>``. The prefix is public (it finds the row and shows in
listings); the secret is 256 random bits, so a plain SHA-256 is as strong as a slow hash here
and costs nothing per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from doorcode.services.audit import record_event
from doorcode.services.caller import Caller, Role
from doorcode.services.naming import check_name
from doorcode.store.models import ApiKey
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["IssuedKey", "authenticate", "create_api_key", "list_api_keys"]

SCHEME = "dck"
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its secret, which nobody will see again."""

    key: ApiKey
    secret: str

    def __repr__(self) -> str:
        return f"IssuedKey(key={self.key.prefix!r}, secret=***)"


def create_api_key(uow: UnitOfWork, caller: Caller, name: str, role: Role) -> IssuedKey:
    """A key for a machine, with one of the user roles."""
    caller.require_owner()
    check_name("an API key", name)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with uow:
        key = ApiKey(
            organisation_id=caller.organisation_id,
            name=name,
            role=role.value,
            prefix=prefix,
            secret_hash=_digest(secret),
            created_at=uow.now,
        )
        uow.api_keys.add(key)
        uow.flush()
        record_event(uow, caller, ("api_key", key.id), "ApiKeyCreated", f"{name} ({role})")
        uow.commit()
        return IssuedKey(key, f"{SCHEME}_{prefix}_{secret}")


def list_api_keys(uow: UnitOfWork, caller: Caller) -> list[ApiKey]:
    """The organisation's keys (prefixes and names only)."""
    caller.require_owner()
    with uow:
        return uow.api_keys.all(caller.organisation_id)


def authenticate(uow: UnitOfWork, presented: str) -> Caller | None:
    """The caller a presented key stands for, or None for anything that is not a live key."""
    scheme, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or not prefix or not secret:
        return None
    with uow:
        key = uow.api_keys.by_prefix(prefix)
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, _digest(secret)):
            return None
        if key.last_used_at is None or uow.now - key.last_used_at > LAST_USED_RESOLUTION:
            key.last_used_at = uow.now
            uow.commit()
        return Caller(key.organisation_id, f"api-key:{key.name}", Role(key.role))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
