"""Keypad programming sequences: how the service tells a person to block a code at a lock.

An offline lock cannot be reached, so revoking a code means typing at its keypad (§8)::

    * <programming code> Enter   128 Enter   <code> Enter

The leading ``*`` is what tells the lock a programming sequence begins: no code or short PIN
contains it, so the programming code never competes with them for a length. The service
generates the sequence (and records that it did); :func:`parse_sequence` splits one into the
entries a person types. ``#`` stands for Enter. A sequence contains the lock's programming
code and a guest's code, so it is masked wherever it might be printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorcode.domain.offline.errors import InvalidKeypadSequence
from doorcode.domain.offline.key_group import MAX_DIGITS, MIN_DIGITS

__all__ = [
    "BLOCK_COMMAND",
    "ENTER",
    "PROGRAMMING_KEY",
    "KeypadSequence",
    "block_sequence",
    "is_programming_code",
    "parse_sequence",
]

BLOCK_COMMAND = "128"
ENTER = "#"
PROGRAMMING_KEY = "*"
MIN_PROGRAMMING_DIGITS = 4
MAX_PROGRAMMING_DIGITS = 12


@dataclass(frozen=True, slots=True, repr=False)
class KeypadSequence:
    """Keys to press at a lock, ``#`` for Enter; secret, so masked when printed."""

    keys: str

    def __repr__(self) -> str:
        return "KeypadSequence(<masked>)"

    def steps(self) -> tuple[str, ...]:
        """The sequence as a person reads it: each entry followed by Enter."""
        steps: list[str] = []
        for entry in parse_sequence(self.keys) or ():
            steps += [entry, "Enter"]
        return tuple(steps)


def block_sequence(programming_code: str, code: str) -> KeypadSequence:
    """What to type at a lock of the code's group so that ``code`` never opens it again."""
    if not is_programming_code(programming_code):
        raise InvalidKeypadSequence("a programming code is 4 to 12 digits")
    if not (_is_digits(code) and MIN_DIGITS <= len(code) <= MAX_DIGITS):
        raise InvalidKeypadSequence("an offline code is 8 to 12 digits")
    entries = (PROGRAMMING_KEY + programming_code, BLOCK_COMMAND, code)
    return KeypadSequence(ENTER.join(entries) + ENTER)


def parse_sequence(keys: str) -> tuple[str, ...] | None:
    """The entries of a sequence (``*`` and digits, then digits), or None if it is not one."""
    if not keys.endswith(ENTER):
        return None
    entries = tuple(keys[:-1].split(ENTER))
    first, rest = entries[0], entries[1:]
    if not (first.startswith(PROGRAMMING_KEY) and _is_digits(first[1:])):
        return None
    return entries if all(_is_digits(entry) for entry in rest) else None


def is_programming_code(candidate: str) -> bool:
    """Whether ``candidate`` can serve as a lock's programming code."""
    length_ok = MIN_PROGRAMMING_DIGITS <= len(candidate) <= MAX_PROGRAMMING_DIGITS
    return length_ok and _is_digits(candidate)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
