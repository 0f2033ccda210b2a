"""The one interface every lock back-end implements: ``LockProvider``.

A provider speaks to one lock cloud (Seam, TTLock, Nuki Web, a zigbee2mqtt bridge, or the
in-process ``virtual`` one). It knows devices and codes, nothing about reservations or grants:
the reconciler decides what must be on a lock and calls these few coroutines to get it there.

    provider = registry.get(lock.provider)
    for code in await provider.list_codes(lock.external_id):
        grant_id = grant_id_from_tag(code.name)      # None: set by hand, never touched
    created = await provider.create_code(
        lock.external_id, NewCode(tag_for(grant.id), "482913", TimeWindow(start, end))
    )
    await provider.update_code(lock.external_id, created.code_id, TimeWindow(start, later))
    await provider.delete_code(lock.external_id, created.code_id)

Every method raises only ``ProviderError`` subclasses (see ``locks/errors.py``); an adapter
translates its client's exceptions at the edge with ``raise ... from err``. The calls map onto
Seam's published API one to one: ``devices/list``, ``access_codes/list``, ``access_codes/create``
(``code``, ``name``, optional ``starts_at``/``ends_at``), ``access_codes/update`` and
``access_codes/delete``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessEventPage
from doorcode.locks.health import LockHealth

__all__ = ["Device", "LockProvider", "NewCode", "ProviderCode", "RateLimits"]


@dataclass(frozen=True, slots=True)
class Device:
    """A lock as its back-end describes it (Seam: ``devices/list`` with ``properties``)."""

    external_id: str
    name: str
    capabilities: LockCapabilities


@dataclass(frozen=True, slots=True)
class ProviderCode:
    """A code as the lock's back-end reports it.

    ``code`` is None when the back-end does not reveal PINs (or has not assigned one yet);
    ``starts_at``/``ends_at`` are None for a code without a schedule.
    """

    code_id: str
    name: str
    code: str | None = field(repr=False)
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def window(self) -> TimeWindow | None:
        """The code's schedule as a window, or None when it has none."""
        if self.starts_at is None or self.ends_at is None:
            return None
        return TimeWindow(self.starts_at, self.ends_at)


@dataclass(frozen=True, slots=True)
class NewCode:
    """A code to create: ``window`` only on locks that schedule codes themselves."""

    name: str
    code: str = field(repr=False)
    window: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What a back-end documents about request rates; the reconciler's limiter keeps to it.

    Seam documents 10 code creations per minute per device.
    """

    creates_per_device: int | None = None
    per: timedelta = timedelta(minutes=1)


class LockProvider(abc.ABC):
    """A lock back-end: list devices and codes, create, update and delete codes.

    Implement one per vendor in ``locks/<vendor>.py`` and register it in ``locks/registry.py``.
    ``name`` is what ``locks.provider`` stores. Methods are coroutines: adapters use an injected
    ``httpx.AsyncClient`` so tests can serve recorded answers.
    """

    name: str = ""
    rate_limits: RateLimits = RateLimits()
    resolution: timedelta = timedelta(minutes=1)
    """How precisely the back-end keeps a code's start and end; smaller differences are equal."""

    @abc.abstractmethod
    async def list_devices(self) -> list[Device]:
        """Every lock the account can program, with its capabilities."""

    @abc.abstractmethod
    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every code on the lock, doorcode's and the owner's alike."""

    @abc.abstractmethod
    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Put a code on the lock, scheduled when ``code.window`` is given."""

    @abc.abstractmethod
    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move a code's schedule; its PIN and name stay."""

    @abc.abstractmethod
    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove a code from the lock."""

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Access events newer than ``cursor``; back-ends that keep no log return an empty page."""
        return AccessEventPage((), cursor)

    async def health(self, device_id: str) -> LockHealth:
        """Online, battery and last contact as the back-end reports them."""
        return LockHealth(None, None, None)
