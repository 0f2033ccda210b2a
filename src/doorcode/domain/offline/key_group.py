"""A key group: the locks that share one offline-code key, and everything they must agree on.

One code opens every lock of its group and no other lock, because a code is FF1-encrypted
under the group's 256-bit key *and* a tweak that spells out the group's identity, epoch and
code length. Two groups given the same key by mistake still do not share codes, and a lock
whose epoch or code length was changed without a new key cannot misread old codes as other
windows.

Tweak, 29 bytes (big-endian throughout)::

    "DCO1"        4 bytes   format and version of the offline-code scheme
    digits        1 byte    code length, 8-12
    epoch         8 bytes   Unix seconds of the group's epoch (UTC)
    group id     16 bytes   the group's UUID in RFC 9562 byte order (uuid.UUID.bytes)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from doorcode.domain.offline.errors import InvalidKeyGroup

__all__ = ["FORMAT_LABEL", "KEY_BYTES", "MAX_DIGITS", "MIN_DIGITS", "KeyGroup"]

FORMAT_LABEL = b"DCO1"
KEY_BYTES = 32
MIN_DIGITS = 8
MAX_DIGITS = 12
DEFAULT_DIGITS = 10
_SHORT_PIN_KEY_LABEL = b"DCO1 short PIN tags"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TokenBytes = Callable[[int], bytes]


@dataclass(frozen=True, slots=True, repr=False)
class KeyGroup:
    """The parameters every lock of one key group holds; ``key`` is secret and masked."""

    key: bytes
    group_id: UUID
    epoch: datetime
    digits: int = DEFAULT_DIGITS

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise InvalidKeyGroup("an offline-code key is 32 bytes (AES-256)")
        if not MIN_DIGITS <= self.digits <= MAX_DIGITS:
            raise InvalidKeyGroup("offline codes have 8 to 12 digits")
        if self.epoch.tzinfo is None:
            raise InvalidKeyGroup("the epoch must be timezone-aware")
        object.__setattr__(self, "epoch", self.epoch.astimezone(UTC))
        if self.epoch.microsecond or self.epoch < _UNIX_EPOCH:
            raise InvalidKeyGroup("the epoch is a whole second after 1970-01-01")

    def __repr__(self) -> str:
        return (
            f"KeyGroup(group_id={self.group_id}, epoch={self.epoch.isoformat()}, "
            f"digits={self.digits}, key=<masked>)"
        )

    @classmethod
    def generate(
        cls,
        group_id: UUID,
        epoch: datetime,
        digits: int = DEFAULT_DIGITS,
        token_bytes: TokenBytes = secrets.token_bytes,
    ) -> KeyGroup:
        """A new group with a fresh random key drawn from ``token_bytes``."""
        return cls(token_bytes(KEY_BYTES), group_id, epoch, digits)

    def rotated(
        self, token_bytes: TokenBytes = secrets.token_bytes, epoch: datetime | None = None
    ) -> KeyGroup:
        """The same group with a new key (and optionally a new epoch): every old code dies."""
        new_epoch = self.epoch if epoch is None else epoch
        return dataclasses.replace(self, key=token_bytes(KEY_BYTES), epoch=new_epoch)

    @property
    def epoch_unix_seconds(self) -> int:
        """The epoch as the lock stores it: whole seconds since 1970-01-01 UTC."""
        return (self.epoch - _UNIX_EPOCH) // timedelta(seconds=1)

    @property
    def tweak(self) -> bytes:
        """The FF1 tweak that binds codes to this group, epoch and length."""
        unix_epoch = self.epoch_unix_seconds.to_bytes(8, "big")
        return FORMAT_LABEL + bytes([self.digits]) + unix_epoch + self.group_id.bytes

    def short_pin_key(self) -> bytes:
        """A key derived for tagging short PINs, so a lock's saved state holds no PIN."""
        return hmac.new(self.key, _SHORT_PIN_KEY_LABEL, hashlib.sha256).digest()
