"""Which numbered user-code slots of a lock doorcode may write, and which one a grant takes.

Z-Wave and Zigbee locks keep codes in numbered slots, and the owner usually keeps the first few
for family codes. doorcode owns one contiguous range per lock and never writes outside it. A
grant's slot is chosen once and kept for the grant's life: moving an active guest's code to
another slot would mean a window where it opens nothing (the peers' "slot shuffle" lockouts).

Pure: the stored choices and what the lock reports go in, a slot number comes out.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from doorcode.domain.errors import DomainError

__all__ = [
    "OWNER_SLOTS",
    "InvalidSlotRange",
    "SlotRange",
    "choose_slot",
    "owned_slots",
    "parse_slot_range",
]

OWNER_SLOTS = 3
"""Slots left to the owner by default (family codes, the cleaner's fixed code...)."""

_SMALL_LOCK = 2 * OWNER_SLOTS
"""A lock with this many slots or fewer is doorcode's entirely unless told otherwise."""

_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-|–|\.\.)\s*(\d{1,5})\s*$")


class InvalidSlotRange(DomainError):
    """A slot range that cannot be: empty, reversed, starting below 1, or beyond the lock."""


@dataclass(frozen=True, slots=True)
class SlotRange:
    """Slots ``first`` to ``last`` inclusive, numbered as the lock numbers them (from 1)."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first < 1:
            raise InvalidSlotRange("slots are numbered from 1")
        if self.last < self.first:
            raise InvalidSlotRange(f"slot range {self.first}-{self.last} is empty")

    def __contains__(self, slot: object) -> bool:
        return isinstance(slot, int) and self.first <= slot <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"

    @property
    def size(self) -> int:
        """How many codes doorcode can keep on the lock at once."""
        return self.last - self.first + 1

    def fits(self, max_codes: int | None) -> bool:
        """Whether every slot of the range exists on a lock with ``max_codes`` slots."""
        return max_codes is None or self.last <= max_codes


def parse_slot_range(text: str) -> SlotRange:
    """``"4-250"`` (also ``4..250``) as a range; anything else is refused with the reason."""
    found = _RANGE.match(text)
    if found is None:
        raise InvalidSlotRange(f"slots must be written first-last, like 4-30 (got {text!r})")
    return SlotRange(int(found.group(1)), int(found.group(2)))


def owned_slots(max_codes: int | None, chosen: SlotRange | None) -> SlotRange | None:
    """The range doorcode writes on a lock: the operator's choice, else all but the first few.

    None when neither is known (the lock did not say how many slots it has): doorcode then
    writes nothing rather than guess at slot numbers the lock may not have.
    """
    if chosen is not None:
        return chosen
    if max_codes is None or max_codes < 1:
        return None
    first = 1 if max_codes <= _SMALL_LOCK else OWNER_SLOTS + 1
    return SlotRange(first, max_codes)


def choose_slot(owned: SlotRange, taken: Collection[int]) -> int | None:
    """The lowest slot of ``owned`` not in ``taken``; None when the range is full.

    ``taken`` is every slot another grant holds (recorded, even if its code is not on the lock
    yet) and every slot the lock reports occupied: a slot is never shared, so no write can
    overwrite a code that still opens the door for someone.
    """
    busy = set(taken)
    return next((slot for slot in range(owned.first, owned.last + 1) if slot not in busy), None)
