"""Builders for offline-code tests: groups, windows and keypads with readable defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from doorcode.domain.offline import KeyGroup, Keypad, KeypadSettings
from doorcode.domain.windows import TimeWindow

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
GROUP_A = UUID("6f1c2a3e-0b7d-4c59-9e8a-1d2f3a4b5c6d")
GROUP_B = UUID("0e9d8c7b-6a59-4847-8362-5f4e3d2c1b0a")
PROGRAMMING_CODE = "902114"


def make_group(
    key: bytes = bytes(range(32)),
    group_id: UUID = GROUP_A,
    epoch: datetime = EPOCH,
    digits: int = 10,
) -> KeyGroup:
    """A key group with a fixed, published test key unless told otherwise."""
    return KeyGroup(key=key, group_id=group_id, epoch=epoch, digits=digits)


def make_keypad(group: KeyGroup | None = None, **settings: Any) -> Keypad:
    """A keypad for ``group`` with the default settings, overridden by keyword."""
    return Keypad(group or make_group(), PROGRAMMING_CODE, KeypadSettings(**settings))


def window(start: datetime, hours: float) -> TimeWindow:
    """The window that starts at ``start`` and lasts ``hours``."""
    return TimeWindow(start, start + timedelta(hours=hours))


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant in 2026, counted in days after 1 January 2026 (day 0)."""
    return EPOCH + timedelta(days=day, hours=hour, minutes=minute, seconds=second)
