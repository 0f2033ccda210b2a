"""``NukiProvider``: the provider contract over one Nuki Web account (a bearer API token).

Keypad codes carry their own window (native scheduling), so a stay costs one write. Nuki
accepts a code with 204 and no id and syncs it to the lock over its bridge, so a code is
``ACCEPTED`` right after a write and ``SET`` once a listing shows it while the smartlock is
online. The account's stored credential is ``api_token``; the option ``base_url`` points at a
test peer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import ClassVar

import httpx

from doorcode.domain.clock import Clock
from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessEventPage
from doorcode.locks.base import (
    Abilities,
    Addressing,
    CodeState,
    Device,
    LockProvider,
    NewCode,
    ProviderAccount,
    ProviderCode,
)
from doorcode.locks.errors import CodeNotFound, UnknownDevice
from doorcode.locks.health import LockHealth
from doorcode.locks.known_codes import KnownCodes
from doorcode.locks.nuki.client import (
    DEFAULT_BASE_URL,
    NukiClient,
    NukiKeypadCode,
    NukiSmartlock,
)
from doorcode.locks.nuki.events import access_event

__all__ = ["KEYPAD_CAPACITY", "STATE_FRESH_FOR", "NukiProvider"]

KEYPAD_CAPACITY = 100
"""Codes a Nuki Keypad holds (the first model; the second is said to hold 200)."""
STATE_FRESH_FOR = timedelta(minutes=1)
"""How long one listing of the account's smartlocks answers for their state and health."""
_NUKI_RULES = CodeConstraints(no_zeros=True, forbidden_prefixes=frozenset({"12"}))


class NukiProvider(LockProvider):
    """One Nuki Web account: its smartlocks, their keypad codes, their logs."""

    kind: ClassVar[str] = "nuki"
    abilities: ClassVar[Abilities] = Abilities(
        native_scheduling=True,
        readable_pins=True,
        update_in_place=True,
        confirms_later=True,
        pushes_events=True,
        addressing=Addressing.BY_ID,
    )
    credential_names: ClassVar[tuple[str, ...]] = ("api_token",)
    optional_credential_names: ClassVar[tuple[str, ...]] = ("webhook_secret",)
    """``webhook_secret``: the secret Nuki gave when the decentral webhook was registered."""

    def __init__(self, client: NukiClient, *, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._known = KnownCodes("Nuki has no such keypad code")
        self._smartlocks: dict[int, NukiSmartlock] = {}
        self._listed_at: datetime | None = None

    def __repr__(self) -> str:
        return "NukiProvider()"

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> NukiProvider:
        """The provider for a stored Nuki account, over the lent ``http`` client."""
        base_url = account.options.get("base_url", DEFAULT_BASE_URL)
        client = NukiClient(http, account.credential("api_token"), base_url=base_url)
        return cls(client, clock=clock)

    async def list_devices(self) -> list[Device]:
        """Every smartlock with a keypad, with Nuki's code rules and its health."""
        locks = await self._client.list_smartlocks()
        return [_device(lock) for lock in locks if lock.has_keypad]

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every keypad code; ``SET`` only while the smartlock is online to have taken it."""
        smartlock_id = _smartlock_id(device_id)
        online = (await self._smartlock(smartlock_id)).online
        codes = [_code(c, online) for c in await self._client.list_keypad_codes(smartlock_id)]
        self._known.remember(device_id, codes)
        return codes

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Create, then find the new code by its name: Nuki answers 204 with no id."""
        smartlock_id = _smartlock_id(device_id)
        await self._client.create_keypad_code(
            smartlock_id, code.name, code.code, _pair(code.window)
        )
        listed = await self._client.list_keypad_codes(smartlock_id)
        found = next((c for c in listed if c.name == code.name and c.code == code.code), None)
        if found is None:
            start, end = _ends(code.window)
            return ProviderCode("", code.name, code.code, start, end, CodeState.ACCEPTED)
        created = _code(found, online=False)
        self._known.remember(device_id, [created])
        return created

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move the window, sending the whole authorization so nothing else is dropped."""
        known = await self._known.find(device_id, code_id, self.list_codes)
        if known.code is None:
            raise CodeNotFound("Nuki did not show this code's digits; recreate it")
        await self._client.update_keypad_code(
            _smartlock_id(device_id), code_id, known.name, known.code, _pair(window)
        )
        start, end = _ends(window)
        moved = replace(known, starts_at=start, ends_at=end, state=CodeState.ACCEPTED)
        self._known.remember(device_id, [moved])
        return moved

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove the keypad code."""
        await self._client.delete_keypad_code(_smartlock_id(device_id), code_id)
        self._known.forget(device_id, code_id)

    async def health(self, device_id: str) -> LockHealth:
        """Online (Nuki's server state), battery charge, and Nuki's last update."""
        return _health(await self._smartlock(_smartlock_id(device_id)))

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Log entries after ``cursor`` (the instant and id of the last one seen)."""
        after = _from_cursor(cursor)
        entries = await self._client.list_log(
            _smartlock_id(device_id), None if after is None else after[0]
        )
        fresh = [e for e in entries if after is None or (e.at, e.log_id) > after]
        events = tuple(event for event in map(access_event, fresh) if event is not None)
        next_cursor = _to_cursor(fresh[-1].at, fresh[-1].log_id) if fresh else cursor
        return AccessEventPage(events, next_cursor)

    async def _smartlock(self, smartlock_id: int) -> NukiSmartlock:
        """A smartlock's state from one account-wide listing a minute, not a request per lock."""
        now = self._clock()
        if self._listed_at is None or now - self._listed_at >= STATE_FRESH_FOR:
            locks = await self._client.list_smartlocks()
            self._smartlocks = {lock.smartlock_id: lock for lock in locks}
            self._listed_at = now
        found = self._smartlocks.get(smartlock_id)
        if found is None:
            raise UnknownDevice("Nuki has no such smartlock in this account")
        return found


def _device(lock: NukiSmartlock) -> Device:
    capabilities = LockCapabilities(
        code_lengths=frozenset({6}),
        constraints=_NUKI_RULES,
        max_codes=KEYPAD_CAPACITY,
        native_scheduling=True,
        online=lock.online,
    )
    return Device(str(lock.smartlock_id), lock.name, capabilities, _health(lock))


def _health(lock: NukiSmartlock) -> LockHealth:
    return LockHealth(lock.online, lock.battery_percent, lock.updated_at)


def _code(code: NukiKeypadCode, online: bool) -> ProviderCode:
    state = CodeState.SET if online and code.enabled else CodeState.ACCEPTED
    return ProviderCode(
        code.auth_id, code.name, code.code, code.allowed_from, code.allowed_until, state
    )


def _smartlock_id(device_id: str) -> int:
    try:
        return int(device_id)
    except ValueError as err:
        raise UnknownDevice("a Nuki smartlock id is a number") from err


def _pair(window: TimeWindow | None) -> tuple[datetime, datetime] | None:
    return None if window is None else (window.starts_at, window.ends_at)


def _ends(window: TimeWindow | None) -> tuple[datetime | None, datetime | None]:
    return (None, None) if window is None else (window.starts_at, window.ends_at)


def _from_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    instant, _, log_id = cursor.partition("|")
    return datetime.fromisoformat(instant), log_id


def _to_cursor(instant: datetime, log_id: str) -> str:
    return f"{instant.isoformat()}|{log_id}"
