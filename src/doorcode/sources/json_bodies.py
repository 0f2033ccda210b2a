"""Reading a webhook body as JSON without letting its shape hurt the reader.

``json.loads`` recurses once per nesting level, so 5,000 ``[`` raise ``RecursionError``
rather than a ``ValueError``; and a document that parses may still be too deep for the code
that walks it afterwards (redaction, validation). No PMS nests a booking more than a few
levels, so anything deeper than ``MAX_DEPTH`` is refused as unreadable.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "NestedTooDeep", "UnreadableJson", "read_json"]

MAX_DEPTH = 32


class UnreadableJson(ValueError):
    """Not JSON, not UTF-8, or nested deeper than doorcode reads."""


class NestedTooDeep(UnreadableJson):
    """JSON, but nested deeper than ``MAX_DEPTH``: nobody can vouch for what is inside."""


def read_json(body: bytes) -> Any:
    """The document in ``body``; raise ``UnreadableJson`` if it is not one doorcode reads."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise UnreadableJson("the body is not valid JSON") from err
    if _deeper_than(document, MAX_DEPTH):
        raise NestedTooDeep(f"the body nests JSON more than {MAX_DEPTH} levels deep")
    return document


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels, found without recursion."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return False
