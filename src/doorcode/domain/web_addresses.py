"""Whether a URL an operator typed can be used at all, before anything is stored or called."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["is_url"]


def is_url(url: str, schemes: tuple[str, ...]) -> bool:
    """An absolute URL of one of ``schemes``, with a host, a port in 1–65535 if one is given,
    and no whitespace.

    ``urlsplit`` reads ``https://host:99999/`` without complaint and only ``.port`` refuses
    it, later: a feed stored like that failed at every poll, and its masked form in listings
    dropped the port, so the mistake could not be seen.
    """
    if any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range, or not a number
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname) and port != 0
