"""Reading submitted forms: text, numbers, checkboxes and local date-times, all bounded.

A missing or malformed field becomes ``FormProblem`` naming it; the page shows the form
again with the message, and nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.datastructures import FormData

from doorcode.domain.text import NUL, has_nul
from doorcode.domain.windows import Edge, check_day, local_instant
from doorcode.services.errors import InvalidRequest

__all__ = ["Form", "FormProblem", "Paging", "read_form", "safe_next"]

MAX_FIELD = 2_000
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
"""``str.isdigit`` takes "²", which ``int`` refuses; a form number is ASCII and bounded."""


class FormProblem(InvalidRequest):
    """One field of a form is missing or malformed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field.replace('_', ' ')}: {message}")
        self.field = field


@dataclass(frozen=True)
class Form:
    """A submitted form's fields."""

    data: FormData

    def text(
        self, name: str, default: str = "", *, required: bool = False, most: int = MAX_FIELD
    ) -> str:
        """A stripped text field of at most ``most`` characters.

        Too long is refused, never cut: a name saved shorter than typed, without a word,
        is a change the user did not ask for.
        """
        raw = self.raw(name)
        if has_nul(raw):
            raise FormProblem(name, "may not contain the NUL character")
        text = raw.strip()
        if required and not text:
            raise FormProblem(name, "is required")
        if len(text) > most:
            raise FormProblem(name, f"is too long (at most {most:,} characters)")
        return text or default

    def typed(self, name: str) -> str:
        """What was typed in a field, unchecked: to show a refused form again as it was sent.

        Only a NUL is left out, which no page can show; the page escapes the rest.
        """
        return self.raw(name).strip().replace(NUL, "")

    def typed_all(self, name: str) -> list[str]:
        """Every non-empty value of a repeated field, unchecked (see ``typed``)."""
        values = (v.strip().replace(NUL, "") for v in self.data.getlist(name) if isinstance(v, str))
        return [value for value in values if value]

    def raw(self, name: str) -> str:
        """A field exactly as sent ("" if absent or a file): for values compared, never kept."""
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        """Every non-empty value of a repeated field (a multiple select)."""
        found = [v.strip() for v in self.data.getlist(name) if isinstance(v, str) and v.strip()]
        if any(has_nul(text) or len(text) > MAX_FIELD for text in found):
            raise FormProblem(name, "holds a value that is too long or has a NUL character")
        return found

    def number(self, name: str, default: int | None = None, *, low: int = 0, high: int) -> int:
        """A whole number between ``low`` and ``high``."""
        text = self.text(name)
        if not text and default is not None:
            return default
        if not WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
            raise FormProblem(name, f"must be a whole number from {low} to {high}")
        return int(text)

    def optional_number(self, name: str, *, low: int, high: int) -> int | None:
        """A whole number, or None when the field is empty."""
        return self.number(name, low=low, high=high) if self.text(name) else None

    def checked(self, name: str) -> bool:
        """Whether a checkbox was ticked."""
        return self.raw(name).strip() in ("on", "1", "true", "yes")

    def choice(self, name: str, allowed: Collection[str], default: str | None = None) -> str:
        """One of ``allowed``."""
        value = self.text(name) or default or ""
        if value not in allowed:
            raise FormProblem(name, "is not one of the choices")
        return value

    def time_of_day(self, name: str, example: str, *, label: str = "") -> time | None:
        """A wall-clock time like ``example`` (None when empty), on the property's clock.

        An offset ("15:00+05:00") is refused, not dropped: the time is read on the
        property's clock whatever offset was typed, so keeping quiet would move it.
        """
        text = self.text(name)
        if not text:
            return None
        try:
            at = time.fromisoformat(text)
        except ValueError as err:
            raise FormProblem(label or name, f"is not a time like {example}") from err
        if at.tzinfo is not None:
            raise FormProblem(label or name, f"must not carry an offset: write it like {example}")
        return at

    def local_time(self, name: str, zone: ZoneInfo, edge: Edge) -> datetime:
        """A ``datetime-local`` value read on ``zone``'s wall clock, as an aware instant."""
        text = self.text(name, required=True)
        try:
            wall = datetime.fromisoformat(text)
        except ValueError as err:
            raise FormProblem(name, "is not a date and time") from err
        if wall.tzinfo is not None:
            raise FormProblem(name, "must not carry an offset")
        return local_instant(check_day(name, wall.date()), wall.time(), zone, edge)


async def read_form(request: Request) -> Form:
    """The request's form (parsed once; the CSRF check read it already)."""
    return Form(await request.form())


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (open redirect).

    Only an absolute path qualifies: ``/reservations?status=confirmed`` yes,
    ``https://evil.example``, ``//evil.example`` and ``/\\evil.example`` no.
    """
    if not value or len(value) > 500 or not value.startswith("/"):
        return "/"
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


@dataclass(frozen=True, slots=True)
class Paging:
    """Where a page sits in a listing: its number, how many pages, how many rows in all."""

    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, asked: int, total: int, size: int) -> Paging:
        """The page asked for, kept between the first and the last."""
        pages = max(1, -(-total // size))
        return cls(max(1, min(asked, pages)), pages, total)

    @property
    def nearby(self) -> range:
        """Page numbers to offer as links: up to three on each side of this one."""
        return range(max(1, self.page - 3), min(self.pages, self.page + 3) + 1)
