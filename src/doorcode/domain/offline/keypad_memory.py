"""What an offline lock remembers between key presses, and how it survives a restart.

The memory holds window numbers (never codes) for the block list and the activation table,
HMAC tags (never PINs) for short PINs, and the lockout counter. Without the group key none
of it can be turned back into something to type, so a virtual lock may store the dict from
:meth:`KeypadMemory.to_dict` as plain JSON. The format carries a version for later changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorcode.domain.offline.errors import CorruptKeypadState
from doorcode.domain.offline.window_packing import WINDOW_COUNT

__all__ = ["KeypadMemory", "LastOpen"]

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class LastOpen:
    """The offline code that last opened the door, and when: a short PIN may follow it."""

    window_index: int
    at: datetime


@dataclass(slots=True)
class KeypadMemory:
    """A lock's mutable tables, keyed by window number (block list, activations, PINs)."""

    failures: int = 0
    locked_until: datetime | None = None
    blocked: set[int] = field(default_factory=set)
    activated: set[int] = field(default_factory=set)
    short_pins: dict[str, int] = field(default_factory=dict)  # tag -> owning window number
    last_open: LastOpen | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot holding no key, code or PIN."""
        return {
            "version": STATE_VERSION,
            "failures": self.failures,
            "locked_until": _instant_text(self.locked_until),
            "blocked": sorted(self.blocked),
            "activated": sorted(self.activated),
            "short_pins": [
                {"tag": tag, "window_index": index}
                for tag, index in sorted(self.short_pins.items())
            ],
            "last_open": None
            if self.last_open is None
            else {"window_index": self.last_open.window_index, "at": self.last_open.at.isoformat()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeypadMemory:
        """Read back a snapshot from :meth:`to_dict`; raises CorruptKeypadState if it is not one."""
        try:
            return cls._parse(data)
        except (KeyError, TypeError, ValueError) as err:
            raise CorruptKeypadState("saved keypad state is unreadable") from err

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> KeypadMemory:
        if data["version"] != STATE_VERSION:
            raise ValueError("unknown keypad state version")
        last = data["last_open"]
        return cls(
            failures=_natural(data["failures"]),
            locked_until=None if data["locked_until"] is None else _instant(data["locked_until"]),
            blocked={_window_index(index) for index in data["blocked"]},
            activated={_window_index(index) for index in data["activated"]},
            short_pins={
                _tag(pin["tag"]): _window_index(pin["window_index"]) for pin in data["short_pins"]
            },
            last_open=None
            if last is None
            else LastOpen(_window_index(last["window_index"]), _instant(last["at"])),
        )


def _instant_text(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def _instant(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError("instants are saved as ISO 8601 text")
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError("saved instants carry their offset")
    return instant


def _natural(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _window_index(value: object) -> int:
    index = _natural(value)
    if index >= WINDOW_COUNT:
        raise ValueError("not a window number")
    return index


def _tag(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a short PIN tag")
    return value
