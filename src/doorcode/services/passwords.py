"""Password hashes: Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile).

Verifying against an unknown account still runs one Argon2 computation, so a sign-in for
a username that does not exist takes as long as one with a wrong password: the timing says
nothing about which usernames exist.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "needs_rehash", "verify_password", "waste_a_verification"]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """A salted Argon2id hash of ``password``, in the PHC string format."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash matches nothing."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def waste_a_verification(password: str) -> None:
    """Spend the time one verification takes, for a username that does not exist."""
    verify_password(_decoy(), password)


@cache
def _decoy() -> str:
    return _hasher.hash("not the password of anyone")
