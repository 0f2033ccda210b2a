"""Text doorcode accepts from outside: one rule for every string, whatever entry point it used.

PostgreSQL's text types cannot hold the NUL character (``\\x00``), so a name, an id or a query
with one in it would fail deep in the database as a server error. Nothing a person or a PMS
means to say needs it, so every entry point refuses it up front, naming where it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["NUL", "first_nul", "has_nul"]

NUL = "\x00"


def has_nul(text: str) -> bool:
    """Whether ``text`` holds a character no stored text may hold."""
    return NUL in text


def first_nul(document: Any) -> str | None:
    """The dotted path of the first string (key or value) in a JSON-like ``document`` with a NUL.

    Walks without recursion, so a hostile document's depth cannot exhaust the stack.
    """
    for path, text in _strings(document):
        if has_nul(text):
            return path or "body"
    return None


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                name = str(key).replace(NUL, "\\x00")  # the path itself must be storable
                inner = f"{path}.{name}" if path else name
                yield inner, str(key)
                pending.append((inner, item))
        elif isinstance(value, list | tuple):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )
