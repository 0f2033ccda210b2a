"""What makes a dashboard password acceptable: long, not trivial, not the username.

Length is what resists guessing (NIST SP 800-63B): at least 12 characters, any characters
allowed, no composition rules. A short list of passwords every guesser tries first is
refused outright, as are passwords built from the username or from one repeated character.
"""

from __future__ import annotations

import itertools

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "password_problems"]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiopas",
        "passwordpassword",
        "password1234",
        "password12345",
        "administrator",
        "letmeinletmein",
        "iloveyou1234",
        "welcome12345",
        "changemechangeme",
        "doorcodedoorcode",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "abcdefghijkl",
        "000000000000",
    }
)


def password_problems(password: str, username: str = "") -> list[str]:
    """Every reason to refuse ``password`` for ``username``, in words a person can act on."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"it must be at most {MAX_PASSWORD_LENGTH} characters long")
    folded = password.lower()
    if len(set(folded)) <= 2:
        problems.append("it must not repeat one or two characters")
    if folded in COMMON or _is_run(folded):
        problems.append("it is one of the first passwords anyone would try")
    if username and username.lower() in folded:
        problems.append("it must not contain the username")
    return problems


def _is_run(text: str) -> bool:
    """Whether ``text`` is a plain ascending or descending run such as ``0123456789ab``."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})
