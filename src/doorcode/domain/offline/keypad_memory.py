"""What an offline lock remembers between key presses, and how it survives a restart.

The memory holds window numbers (never codes) for the block list and the activation table,
HMAC tags (never PINs) for short PINs, the lockout counter, and what the next entry may be
(a short-PIN registration, or the next part of a programming sequence). Without the group
key none of it can be turned back into something to type, so a virtual lock may store the
dict from :meth:`KeypadMemory.to_dict` as plain JSON. The format carries a version; version 1
(which kept only the last opening) is still read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorcode.domain.offline.errors import CorruptKeypadState
from doorcode.domain.offline.window_packing import WINDOW_COUNT

__all__ = ["KeypadMemory", "Pending", "Stage"]

STATE_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class Stage(enum.Enum):
    """What the lock takes the next entry for, if it comes in time (§6, §8, §9)."""

    REGISTRATION = "registration"  # a short PIN for the offline code that just opened
    COMMAND = "command"  # the command after a right programming code
    CODE = "code"  # the code after the block command


@dataclass(frozen=True, slots=True)
class Pending:
    """The one thing the next entry may be, since when, and for which window number."""

    stage: Stage
    at: datetime
    window_index: int | None = None  # the opening offline code's X, for a registration


@dataclass(slots=True)
class KeypadMemory:
    """A lock's mutable tables, keyed by window number (block list, activations, PINs)."""

    failures: int = 0
    locked_until: datetime | None = None
    blocked: set[int] = field(default_factory=set)
    activated: set[int] = field(default_factory=set)
    short_pins: dict[str, int] = field(default_factory=dict)  # tag -> owning window number
    pending: Pending | None = None

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
            "pending": None if self.pending is None else _pending_dict(self.pending),
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
        if data["version"] not in _READABLE_VERSIONS:
            raise ValueError("unknown keypad state version")
        return cls(
            failures=_natural(data["failures"]),
            locked_until=None if data["locked_until"] is None else _instant(data["locked_until"]),
            blocked={_window_index(index) for index in data["blocked"]},
            activated={_window_index(index) for index in data["activated"]},
            short_pins={
                _tag(pin["tag"]): _window_index(pin["window_index"]) for pin in data["short_pins"]
            },
            pending=_pending_of(data),
        )


def _pending_dict(pending: Pending) -> dict[str, Any]:
    return {
        "stage": pending.stage.value,
        "at": pending.at.isoformat(),
        "window_index": pending.window_index,
    }


def _pending_of(data: dict[str, Any]) -> Pending | None:
    """The pending entry of a snapshot; version 1 kept only the last opening by a code."""
    if data["version"] == 1:
        last = data["last_open"]
        if last is None:
            return None
        return Pending(
            Stage.REGISTRATION, _instant(last["at"]), _window_index(last["window_index"])
        )
    pending = data["pending"]
    if pending is None:
        return None
    stage = Stage(pending["stage"])
    index = pending["window_index"]
    if (stage is Stage.REGISTRATION) != (index is not None):
        raise ValueError("only a registration belongs to a window number")
    return Pending(stage, _instant(pending["at"]), None if index is None else _window_index(index))


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
