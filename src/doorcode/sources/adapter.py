"""What a PMS adapter is: a translation of one vendor's webhook body into the generic shape.

An adapter does no I/O and decides nothing about the booking's fate: it renames and
reshapes fields, maps the vendor's statuses onto doorcode's three, and drops contact details
that could not be used anyway (a guest must not lose their code over a malformed email).
Everything it returns then passes the same strict checks as a generic body, and a field
error is reported under the vendor's own field name (``field_names``).

    adapter = ADAPTERS["hostaway"]
    generic = adapter.to_generic(json.loads(body))   # may raise NotAReservation
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from doorcode.domain.reservations import EMAIL_PATTERN, PHONE_PATTERN

__all__ = ["GenericAdapter", "PmsAdapter", "as_name", "as_text", "usable_email", "usable_phone"]

MAX_NAME = 200


class PmsAdapter(Protocol):
    """Translates a vendor's webhook document into a version 1 generic body."""

    field_names: Mapping[str, str]

    def to_generic(self, document: dict[str, Any]) -> dict[str, Any]:
        """The generic body for ``document``; raise ``NotAReservation`` or ``PayloadRejected``."""
        ...


class GenericAdapter:
    """The generic shape needs no translation."""

    field_names: Mapping[str, str] = {}

    def to_generic(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document itself."""
        return document


def as_text(value: Any) -> Any:
    """Ids arrive as numbers from some vendors; doorcode keeps them as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def as_name(value: Any) -> Any:
    """A guest's name, cut to the length doorcode keeps rather than refused for it."""
    return value.strip()[:MAX_NAME] if isinstance(value, str) else value


def usable_email(value: Any) -> str | None:
    """The address, if doorcode could ever send to it."""
    if isinstance(value, str) and len(value) <= 320 and re.match(EMAIL_PATTERN, value.strip()):
        return value.strip()
    return None


def usable_phone(value: Any) -> str | None:
    """The number, if doorcode could ever text it."""
    if isinstance(value, str) and len(value) <= 40 and re.match(PHONE_PATTERN, value.strip()):
        return value.strip()
    return None
