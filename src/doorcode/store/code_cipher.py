"""Codes and provider secrets encrypted at rest with Fernet, keys rotatable.

The first key encrypts; every key decrypts, so an operator rotates by putting a new key first,
re-encrypting (``doorcode db rotate-key``, later) and then dropping the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["CodeCipher", "UnreadableSecret"]


class UnreadableSecret(Exception):
    """A stored secret that none of the configured keys can decrypt (wrong or missing key)."""


class CodeCipher:
    """Encrypts short secrets (door codes, provider tokens) for storage."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def __repr__(self) -> str:
        return "CodeCipher(keys=***)"

    def encrypt(self, secret: str) -> str:
        """The token to store for ``secret``."""
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The secret behind a stored token."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as err:
            raise UnreadableSecret(
                "a stored secret cannot be decrypted with the configured DOORCODE_SECRET_KEY"
            ) from err

    def rotate(self, token: str) -> str:
        """The same secret re-encrypted under the newest key."""
        return self._fernet.rotate(token.encode()).decode()
