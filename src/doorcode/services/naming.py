"""Names operators give things: one rule for properties, locks, API keys and holders."""

from __future__ import annotations

from doorcode.services.errors import InvalidRequest

__all__ = ["MAX_NAME_LENGTH", "check_name", "check_name_length"]

MAX_NAME_LENGTH = 200
"""As the API's bodies allow (``Name`` in api/schemas.py)."""


def check_name(what: str, name: str) -> None:
    """A name an operator can read back and type again: 1–200 characters, not all spaces.

    ``what`` comes with its article ("a lock", "an API key"): the message starts with it.
    The API's bodies held the length but let "  " through; the CLI held neither.
    """
    if not name.strip():
        raise InvalidRequest(f"{what} needs a name")
    check_name_length(what, name)


def check_name_length(what: str, name: str) -> None:
    """The length half of ``check_name``, for a name that may be left empty or whose
    emptiness has words of its own: the holder of a grant, a schedule or a turnover code.

    ``what`` is as for ``check_name``: "the holder" gives "the holder's name is 200
    characters at most".
    """
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"{what}'s name is {MAX_NAME_LENGTH} characters at most")
