"""FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, section 5.1) on AES.

FF1 is a ten-round Feistel network whose round function is AES-CBC-MAC over a block that
carries the tweak, the round number and one half of the input. Offline codes need it because
its ciphertext is again a string of decimal digits: the code a guest types.

Why hand-written: no maintained FF1 package for Python 3.11 was found that we would trust with
a lock's key, and the algorithm is short. It is checked against every NIST sample.

Why fast: within one ``(tweak, length)`` every PRF input is the same apart from its last
16-byte block (round number and half-input), so the CBC-MAC over the constant blocks is
computed once per schedule and each round then costs a single AES block operation. A lock's
microcontroller can do the same; it pays ten AES blocks per code it checks.

Extension points: the radix (2-36, numerals ``0-9a-z``) and the tweak. Domains whose
half-input does not fit a single AES block (``b > 12``, more than 56 decimal digits) are
refused rather than implemented, since no offline code needs them. An instance holds an
OpenSSL context and is not meant to be shared between threads.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["FF1"]

ROUNDS = 10
MIN_DOMAIN_SIZE = 1_000_000  # SP 800-38G Rev. 1: radix ** minlen >= 10**6
_BLOCK = 16
_MAX_HALF_BYTES = 12  # keeps d <= 16: one AES block per round
_NUMERALS = string.digits + string.ascii_lowercase
_SCHEDULE_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class _Schedule:
    """What FF1 can precompute for one tweak and input length."""

    domain_size: int  # radix ** n: how many inputs there are
    half_modulus: int  # radix ** v: splits and joins the two halves
    # Per round i: (CBC-MAC chain XOR the constant part of the last block, radix ** m).
    rounds: tuple[tuple[int, int], ...]
    unused_bits: int  # 8 * (16 - d): y is the AES output shifted right by this much


class FF1:
    """FF1 with one AES key: encrypt and decrypt numeral strings, or the numbers they spell.

    >>> cipher = FF1(bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C"))
    >>> cipher.encrypt("0123456789")
    '2433477484'
    """

    def __init__(self, key: bytes, radix: int = 10) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("an AES key is 16, 24 or 32 bytes")
        if not 2 <= radix <= len(_NUMERALS):
            raise ValueError("radix must be between 2 and 36")
        # ECB on single blocks is the raw AES permutation FF1's PRF is built from.
        cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
        self._aes = cipher.encryptor().update
        self._radix = radix
        self._alphabet = frozenset(_NUMERALS[:radix])
        self._schedules: dict[tuple[bytes, int], _Schedule] = {}

    def __repr__(self) -> str:
        return f"FF1(radix={self._radix}, key=<masked>)"

    @property
    def radix(self) -> int:
        """The number of distinct numerals, 10 for decimal codes."""
        return self._radix

    def encrypt(self, numerals: str, tweak: bytes = b"") -> str:
        """The ciphertext of ``numerals`` under ``tweak``, as long as the input."""
        value = self._number(numerals)
        return self._numerals(self.encrypt_number(value, len(numerals), tweak), len(numerals))

    def decrypt(self, numerals: str, tweak: bytes = b"") -> str:
        """The plaintext whose ciphertext under ``tweak`` is ``numerals``."""
        value = self._number(numerals)
        return self._numerals(self.decrypt_number(value, len(numerals), tweak), len(numerals))

    def encrypt_number(self, value: int, length: int, tweak: bytes = b"") -> int:
        """Encrypt the ``length``-numeral string that spells ``value``; digits stay integers."""
        schedule = self._schedule(tweak, length)
        if not 0 <= value < schedule.domain_size:
            raise ValueError("value has more numerals than the length allows")
        left, right = divmod(value, schedule.half_modulus)
        aes, unused_bits = self._aes, schedule.unused_bits
        for round_input, modulus in schedule.rounds:
            y = int.from_bytes(aes((round_input ^ right).to_bytes(_BLOCK, "big"))) >> unused_bits
            left, right = right, (left + y) % modulus
        return left * schedule.half_modulus + right

    def decrypt_number(self, value: int, length: int, tweak: bytes = b"") -> int:
        """Invert :meth:`encrypt_number`."""
        schedule = self._schedule(tweak, length)
        if not 0 <= value < schedule.domain_size:
            raise ValueError("value has more numerals than the length allows")
        left, right = divmod(value, schedule.half_modulus)
        aes, unused_bits = self._aes, schedule.unused_bits
        for round_input, modulus in reversed(schedule.rounds):
            y = int.from_bytes(aes((round_input ^ left).to_bytes(_BLOCK, "big"))) >> unused_bits
            left, right = (right - y) % modulus, left
        return left * schedule.half_modulus + right

    def _schedule(self, tweak: bytes, length: int) -> _Schedule:
        found = self._schedules.get((tweak, length))
        if found is None:
            if len(self._schedules) >= _SCHEDULE_CACHE_SIZE:
                self._schedules.clear()
            found = self._schedules[(tweak, length)] = self._new_schedule(tweak, length)
        return found

    def _new_schedule(self, tweak: bytes, length: int) -> _Schedule:
        """Steps 1-5 of FF1 and the tweak-dependent part of step 6.i, done once."""
        radix = self._radix
        if length < 2 or radix**length < MIN_DOMAIN_SIZE:
            raise ValueError("FF1 needs at least two numerals and a domain of a million")
        u = length // 2
        v = length - u
        b = ((radix**v - 1).bit_length() + 7) // 8
        if b > _MAX_HALF_BYTES:
            raise ValueError("this FF1 handles halves of at most 12 bytes")
        d = 4 * ((b + 3) // 4) + 4
        p_block = bytes([1, 2, 1, *radix.to_bytes(3, "big"), 10, u % 256])
        p_block += length.to_bytes(4, "big") + len(tweak).to_bytes(4, "big")
        q_head = tweak + bytes((-len(tweak) - b - 1) % 16)
        prefix = p_block + q_head + bytes(1 + b)
        chain = self._cbc_mac(prefix[:-_BLOCK])
        last = int.from_bytes(prefix[-_BLOCK:], "big")
        return _Schedule(
            domain_size=radix**length,
            half_modulus=radix**v,
            rounds=tuple(
                (chain ^ last ^ (i << (8 * b)), radix ** (u if i % 2 == 0 else v))
                for i in range(ROUNDS)
            ),
            unused_bits=8 * (_BLOCK - d),
        )

    def _cbc_mac(self, blocks: bytes) -> int:
        """The CBC-MAC chaining value after ``blocks`` (zero IV), as an integer."""
        chain = 0
        for start in range(0, len(blocks), _BLOCK):
            block = int.from_bytes(blocks[start : start + _BLOCK], "big") ^ chain
            chain = int.from_bytes(self._aes(block.to_bytes(_BLOCK, "big")), "big")
        return chain

    def _number(self, numerals: str) -> int:
        if not numerals or not set(numerals) <= self._alphabet:
            raise ValueError(f"expected numerals of radix {self._radix}")
        return int(numerals, self._radix)

    def _numerals(self, value: int, length: int) -> str:
        if self._radix == 10:
            return f"{value:0{length}d}"
        out = []
        for _ in range(length):
            value, numeral = divmod(value, self._radix)
            out.append(_NUMERALS[numeral])
        return "".join(reversed(out))
