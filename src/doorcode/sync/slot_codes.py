"""How a slot-addressed lock's listing becomes the reconciler's view of "our codes".

Z-Wave and Zigbee slots carry no names, so doorcode cannot recognise its codes by their tag as
it does on the clouds. It recognises them by slot instead: each grant's slot is recorded before
its code is written (``lock_codes.slot``), so a slot of the owned range that a recorded grant
holds is that grant's code, even when the lock masks PINs and even after a crash between the
write and the record of the result. Codes outside the owned range are the owner's and never
touched, and so is every code the lock already held when doorcode first read it, wherever it
sits (a family code in slot 5 survives the import). Any other code inside the range is a stray
(left by a grant that no longer exists here, or typed in later) that doorcode clears, since
nobody else may rely on those slots.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from doorcode.domain.slots import SlotRange
from doorcode.locks.base import ProviderCode
from doorcode.locks.tags import tag_for

__all__ = ["SlotListing", "slot_number", "sort_by_slot"]


@dataclass(frozen=True, slots=True)
class SlotListing:
    """A slot-addressed lock's codes, sorted by who they belong to."""

    codes: tuple[ProviderCode, ...]
    """Every code to reconcile: ours named by their grant's tag, the owner's as they came."""
    strays: tuple[ProviderCode, ...]
    """Codes inside the owned range that no recorded grant holds: to be cleared."""

    @property
    def occupied(self) -> frozenset[int]:
        """Every slot the lock reports holding a code, ours, strays and the owner's alike."""
        slots = (slot_number(code) for code in (*self.codes, *self.strays))
        return frozenset(slot for slot in slots if slot is not None)


def slot_number(code: ProviderCode) -> int | None:
    """The slot a listed code sits in; None for a reference that is not a slot number."""
    return int(code.code_id) if code.code_id.isdigit() else None


def sort_by_slot(
    listed: Iterable[ProviderCode],
    owned: SlotRange,
    holders: Mapping[int, str],
    owners: Collection[str] | None,
) -> SlotListing:
    """Name the codes of recorded grants (``holders``: slot -> grant id) and set strays apart.

    ``owners`` are the code ids known as the owner's (found there before); None on the lock's
    first inventory, when every code not recorded for a grant is the owner's.
    """
    codes: list[ProviderCode] = []
    strays: list[ProviderCode] = []
    for code in listed:
        slot = slot_number(code)
        if slot is not None and slot in holders and slot in owned:
            codes.append(replace(code, name=tag_for(holders[slot])))
        elif slot is None or slot not in owned or owners is None or code.code_id in owners:
            codes.append(code)
        else:
            strays.append(code)
    return SlotListing(tuple(codes), tuple(strays))
