"""What one provider instance last saw of each code, for back-ends that update whole codes.

TTLock's change and Nuki's update need the code's other fields (PIN, name) beside the new
window; the adapter keeps the codes it listed or wrote, and lists the lock again only for a
code it has not seen. One instance serves one pass over one account, so this never goes stale
for long; it holds PINs, so it is never logged (``ProviderCode`` hides them in its repr).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from doorcode.locks.base import ProviderCode
from doorcode.locks.errors import CodeNotFound

__all__ = ["KnownCodes"]


class KnownCodes:
    """Codes by (device, code id), as last listed or written through one provider."""

    def __init__(self, missing: str) -> None:
        self._codes: dict[tuple[str, str], ProviderCode] = {}
        self._missing = missing
        """The ``CodeNotFound`` message when a code is on no listing (never a PIN)."""

    def remember(self, device_id: str, codes: Iterable[ProviderCode]) -> None:
        """Keep ``codes`` as the device's latest word on each of them."""
        self._codes.update({(device_id, code.code_id): code for code in codes})

    def forget(self, device_id: str, code_id: str) -> None:
        """The code left the device."""
        self._codes.pop((device_id, code_id), None)

    async def find(
        self,
        device_id: str,
        code_id: str,
        listing: Callable[[str], Awaitable[list[ProviderCode]]],
    ) -> ProviderCode:
        """The code as last seen, listing the device when it was not; else ``CodeNotFound``."""
        known = self._codes.get((device_id, code_id))
        if known is None:
            known = {code.code_id: code for code in await listing(device_id)}.get(code_id)
        if known is None:
            raise CodeNotFound(self._missing)
        return known
