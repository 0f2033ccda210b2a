"""Custom short PINs: the rules a guest's chosen PIN must pass, and how a lock files it.

A guest who has just opened the door with an offline code may register a 4-8 digit PIN that
then opens the door until that code expires. PINs a stranger would try first are refused:
all one digit (2222) and runs up or down (1234, 6789, 4321). A keypad's 0 sits after 9,
so runs wrap (7890, 8901, 2109 are runs too). A PIN is also shorter than the group's codes,
so the lock tells a PIN from a code by its length alone.

A lock files a PIN as an HMAC tag under a key derived from the group key, so a lock's saved
state can be stored like any other data: it holds no PIN a reader could type.
"""

from __future__ import annotations

import hmac
import itertools

__all__ = ["MAX_PIN_DIGITS", "MIN_PIN_DIGITS", "is_acceptable_short_pin", "short_pin_tag"]

MIN_PIN_DIGITS = 4
MAX_PIN_DIGITS = 8
_TAG_HEX_DIGITS = 32  # 128-bit tags


def is_acceptable_short_pin(pin: str, code_digits: int, shortest: int = MIN_PIN_DIGITS) -> bool:
    """Whether a lock whose codes have ``code_digits`` digits may register ``pin``."""
    longest = min(MAX_PIN_DIGITS, code_digits - 1)
    if not (pin.isascii() and pin.isdigit() and shortest <= len(pin) <= longest):
        return False
    return not is_trivial_pin(pin)


def is_trivial_pin(pin: str) -> bool:
    """Whether ``pin`` repeats one digit or runs up or down the keypad by one each key."""
    steps = {(int(after) - int(before)) % 10 for before, after in itertools.pairwise(pin)}
    return steps in ({0}, {1}, {9})


def short_pin_tag(pin_key: bytes, pin: str) -> str:
    """The tag a lock files ``pin`` under: HMAC-SHA-256 truncated to 128 bits, in hex."""
    return hmac.digest(pin_key, pin.encode("ascii"), "sha256").hex()[:_TAG_HEX_DIGITS]
