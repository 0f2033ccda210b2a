"""``ZwaveJsProvider``: the provider contract over one Z-Wave JS server (one Z-Wave network).

A lock is a node with the User Code CC; its user-code slots are numbered 1..supported users.
Listing answers from the server's value cache (no radio); a write sends one User Code Set and
confirms it with one User Code Get of that slot, the device's answer rather than the cache,
which lags about a second behind a set. Slots the cache has never seen are read once each (the
first inventory; the server keeps the answers, so it is not repeated after a restart). Health
comes from the node's status and the cached Battery CC level, access events from Notification
CC (Access Control) reports and Door Lock CC mode changes the server pushes while doorcode
listens (the account's ``ZwaveJsLink``, kept for the process). Every command is counted in
``radio.RADIO`` just before it is sent (``_send``; ``_wake`` for the ping of a dead node).

The account's option ``url`` is the server's websocket, e.g. ``ws://homeassistant.local:3000``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx
from zwave_js_server.client import Client
from zwave_js_server.const import CommandClass, NodeStatus
from zwave_js_server.exceptions import (
    BaseZwaveJSServerError,
    FailedCommand,
    FailedZWaveCommand,
)
from zwave_js_server.model.node import Node

from doorcode.domain.clock import Clock
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
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    ProviderError,
    ProviderNotConfigured,
    ProviderUnavailable,
    UnknownDevice,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.zwave_js.events import access_events_of
from doorcode.locks.zwave_js.link import SlotReading, ZwaveJsLink
from doorcode.locks.zwave_js.radio import RADIO, RadioKind

if TYPE_CHECKING:
    from doorcode.locks.links import AccountLinks

__all__ = ["COMMAND_WITHIN", "ZwaveJsProvider"]

COMMAND_WITHIN = 30.0
"""Seconds one command may take: a sleeping or distant lock answers within a few."""
CODE_LENGTHS = frozenset(range(4, 11))
"""User Code CC codes are 4 to 10 characters."""

_AVAILABLE = 0
_ENABLED = 1
_NOT_AVAILABLE = 0xFE
_SUPERVISION_FAIL = 2
_INVALID_ARGUMENT = 322
_NODE_UNREACHABLE = frozenset({200, 201, 202, 204, 205})
"""zwave-js errors that mean the node did not answer (timeouts, no ACK, dropped, jammed)."""

T = TypeVar("T")


class ZwaveJsProvider(LockProvider):
    """One Z-Wave JS server: its lock nodes, their user-code slots, their pushed events."""

    kind: ClassVar[str] = "zwave_js"
    abilities: ClassVar[Abilities] = Abilities(
        native_scheduling=False,
        expires_codes=False,
        readable_pins=True,
        update_in_place=False,
        confirms_later=False,
        addressing=Addressing.BY_SLOT,
    )
    option_names: ClassVar[tuple[str, ...]] = ("url",)

    def __init__(self, url: str, *, clock: Clock, link: ZwaveJsLink | None = None) -> None:
        self._url = url
        self._owns_link = link is None
        self.link = link or ZwaveJsLink.start(url, clock)

    def __repr__(self) -> str:
        return f"ZwaveJsProvider({self._url!r})"

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> ZwaveJsProvider:
        """A provider with a link of its own, closed with it (``build`` shares the account's)."""
        return cls(_url_of(account), clock=clock)

    @classmethod
    def build(
        cls,
        account: ProviderAccount,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        links: AccountLinks,
    ) -> LockProvider:
        """The provider over the account's process-wide link, started the first time."""
        url = _url_of(account)
        key = f"{cls.kind}:{account.account_id}:{url}"
        return cls(
            url,
            clock=clock,
            link=links.get(key, lambda: ZwaveJsLink.start(url, clock), ZwaveJsLink),
        )

    async def aclose(self) -> None:
        """End the link only if this provider started it for itself."""
        if self._owns_link:
            await asyncio.to_thread(self.link.close)

    async def list_devices(self) -> list[Device]:
        """Every node with the User Code CC, with its slot count; asks the lock nothing."""
        return await self.link.call(self._list_devices())

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """One code per occupied slot, from the cache; slots never read are read once."""
        return await self.link.call(self._list_codes(device_id))

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Write ``code.slot``, then read it back from the device: ``SET`` when it holds it."""
        return await self.link.call(self._create_code(device_id, code))

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Never called: a Z-Wave slot holds no schedule (doorcode writes and clears on time)."""
        raise NotSupported("a Z-Wave user-code slot has no schedule to move")

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Clear the slot and read it back; an empty slot is cleared again without complaint."""
        await self.link.call(self._delete_code(device_id, code_id))

    async def health(self, device_id: str) -> LockHealth:
        """Online unless the driver marked the node dead; battery from the cache."""
        return await self.link.call(self._health(device_id))

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Openings the server pushed since ``cursor`` (while doorcode was listening)."""
        return await self.link.call(self._access_events(device_id, cursor))

    # -- the same, on the link's loop -------------------------------------------------

    async def _list_devices(self) -> list[Device]:
        client = await self._client()
        assert client.driver is not None
        nodes = client.driver.controller.nodes.values()
        return [self._device(client, node) for node in nodes if _has_user_codes(node)]

    async def _list_codes(self, device_id: str) -> list[ProviderCode]:
        client = await self._client()
        node = self._node(client, device_id)
        codes = []
        for slot in range(1, _slot_count(node) + 1):
            reading = self._known(node, slot) or await self._read(node, slot)
            if _is_occupied(reading):
                codes.append(ProviderCode(str(slot), "", _pin(reading), state=CodeState.SET))
        return codes

    async def _create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        client = await self._client()
        node = self._node(client, device_id)
        slot = _slot_to_write(node, code)
        if len(code.code) not in CODE_LENGTHS or not code.code.isdigit():
            raise CodeRefused("Z-Wave user codes are 4 to 10 digits")
        result = await self._send(node, RadioKind.WRITE, "set", slot, _ENABLED, code.code)
        refused = isinstance(result, dict) and result.get("status") == _SUPERVISION_FAIL
        reading = None if refused else await self._read(node, slot)
        if reading is None or not _holds(reading, code.code):
            raise self._refusal(node, slot, code.code)
        return ProviderCode(str(slot), "", _pin(reading), state=CodeState.SET)

    async def _delete_code(self, device_id: str, code_id: str) -> None:
        client = await self._client()
        node = self._node(client, device_id)
        if not code_id.isdigit() or not 1 <= int(code_id) <= _slot_count(node):
            raise CodeNotFound("no such user-code slot on this lock")
        slot = int(code_id)
        await self._send(node, RadioKind.WRITE, "clear", slot)
        if _is_occupied(await self._read(node, slot)):
            raise ProviderUnavailable(f"the lock still holds a code in slot {slot}")

    async def _health(self, device_id: str) -> LockHealth:
        node = self._node(await self._client(), device_id)
        online = None if node.status is NodeStatus.UNKNOWN else node.status is not NodeStatus.DEAD
        battery = _cached(node, CommandClass.BATTERY, "level")
        percent = battery if isinstance(battery, int) else None
        return LockHealth(online, percent, node.last_seen)

    async def _access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        client = await self._client()
        node = self._node(client, device_id)
        after = _instant(cursor)
        heard = [e for e in self.link.heard(node.node_id) if after is None or e.heard_at > after]
        events = access_events_of(device_id, heard)
        next_cursor = heard[-1].heard_at.isoformat() if heard else cursor
        return AccessEventPage(events, next_cursor)

    async def _client(self) -> Client:
        return await self.link.client()

    def _device(self, client: Client, node: Node) -> Device:
        capabilities = LockCapabilities(
            code_lengths=CODE_LENGTHS,
            max_codes=_slot_count(node) or None,
            native_scheduling=False,
            online=node.status is not NodeStatus.DEAD,
        )
        name = node.name or node.label or f"Z-Wave node {node.node_id}"
        return Device(_device_id(client, node), name, capabilities)

    def _node(self, client: Client, device_id: str) -> Node:
        assert client.driver is not None
        _, _, node_id = device_id.partition(".")
        node = client.driver.controller.nodes.get(int(node_id)) if node_id.isdigit() else None
        if node is None or _device_id(client, node) != device_id or not _has_user_codes(node):
            raise UnknownDevice("this Z-Wave network has no such lock node")
        return node

    def _known(self, node: Node, slot: int) -> SlotReading | None:
        """The slot as last read from the device, else as the server's cache has it."""
        recalled = self.link.recalled(node.node_id, slot)
        if recalled is not None:
            return recalled
        status = _cached(node, CommandClass.USER_CODE, "userIdStatus", slot)
        if not isinstance(status, int):
            return None
        code = _cached(node, CommandClass.USER_CODE, "userCode", slot)
        return SlotReading(status, code if isinstance(code, str) else "")

    async def _read(self, node: Node, slot: int) -> SlotReading:
        """One User Code Get: the device's own answer, remembered ahead of the cache."""
        answer = await self._send(node, RadioKind.READ, "get", slot)
        if not isinstance(answer, dict) or not isinstance(answer.get("userIdStatus"), int):
            raise ProviderUnavailable(f"the lock gave no readable answer for slot {slot}")
        code = answer.get("userCode")
        reading = SlotReading(answer["userIdStatus"], code if isinstance(code, str) else "")
        self.link.remember(node.node_id, slot, reading)
        return reading

    def _refusal(self, node: Node, slot: int, pin: str) -> ProviderError:
        """Why a lock did not keep a code: the same PIN elsewhere, or its own rules."""
        for other in range(1, _slot_count(node) + 1):
            reading = self._known(node, other)
            if other != slot and reading is not None and _holds(reading, pin, exact=True):
                return DuplicateCode(f"the lock holds these digits in slot {other}")
        return CodeRefused(f"the lock did not keep the code written to slot {slot}")

    async def _send(self, node: Node, kind: RadioKind, method: str, *args: Any) -> Any:
        """Count, then send one User Code command, translating every failure."""
        if node.status is NodeStatus.DEAD:
            await self._wake(node)
        RADIO.count(self._url, node.node_id, kind)
        return await _translated(
            node.async_invoke_cc_api(CommandClass.USER_CODE, method, *args, wait_for_result=True)
        )

    async def _wake(self, node: Node) -> None:
        """A dead node is pinged once before anything is written to it; still dead: offline."""
        RADIO.count(self._url, node.node_id, RadioKind.PING)
        if not await _translated(node.async_ping()):
            raise LockOffline("the lock does not answer (Z-Wave JS marks the node dead)")


async def _translated(call: Awaitable[T]) -> T:
    """Await a client call within ``COMMAND_WITHIN``; its failures become ``ProviderError``s."""
    try:
        async with asyncio.timeout(COMMAND_WITHIN):
            return await call
    except TimeoutError as err:
        raise ProviderUnavailable("the Z-Wave JS server did not answer in time") from err
    except FailedZWaveCommand as err:
        if err.zwave_error_code in _NODE_UNREACHABLE:
            raise LockOffline("the lock did not answer the Z-Wave command") from err
        if err.zwave_error_code == _INVALID_ARGUMENT:
            raise NoSpaceLeft("the lock has no such user-code slot") from err
        raise ProviderUnavailable(f"Z-Wave error {err.zwave_error_code}") from err
    except FailedCommand as err:
        if err.error_code == "node_not_found":
            raise UnknownDevice("this Z-Wave network has no such node") from err
        raise ProviderUnavailable(f"the Z-Wave JS server refused: {err.error_code}") from err
    except BaseZwaveJSServerError as err:
        raise ProviderUnavailable("the Z-Wave JS connection failed") from err


def _instant(cursor: str | None) -> datetime | None:
    """The instant a cursor names; one this back-end did not write starts from the beginning."""
    try:
        return datetime.fromisoformat(cursor) if cursor else None
    except ValueError:
        return None


def _url_of(account: ProviderAccount) -> str:
    url = account.options.get("url", "")
    if not url.startswith(("ws://", "wss://")):
        raise ProviderNotConfigured(
            f"the zwave_js account {account.label!r} needs a url like ws://host:3000"
        )
    return url


def _device_id(client: Client, node: Node) -> str:
    """``<home id>.<node id>``: node ids repeat across networks, home ids do not."""
    assert client.driver is not None
    return f"{client.driver.controller.home_id or 0:08x}.{node.node_id}"


def _has_user_codes(node: Node) -> bool:
    return any(info.id == CommandClass.USER_CODE for info in node.command_classes)


def _cached(node: Node, cc: CommandClass, prop: str, key: int | None = None) -> Any:
    suffix = "" if key is None else f"-{key}"
    value = node.values.get(f"{node.node_id}-{cc.value}-0-{prop}{suffix}")
    return None if value is None else value.value


def _slot_count(node: Node) -> int:
    """Slots 1..N as the server lists them (one value per supported user, read or not)."""
    count = 0
    while f"{node.node_id}-99-0-userIdStatus-{count + 1}" in node.values:
        count += 1
    return count


def _slot_to_write(node: Node, code: NewCode) -> int:
    if code.slot is None:
        raise NotSupported("a Z-Wave lock is written slot by slot: the reconciler names the slot")
    if not 1 <= code.slot <= _slot_count(node):
        raise NoSpaceLeft(f"the lock has {_slot_count(node)} user-code slots")
    return code.slot


def _is_occupied(reading: SlotReading) -> bool:
    return reading.status not in (_AVAILABLE, _NOT_AVAILABLE)


def _is_masked(code: str) -> bool:
    return not code or set(code) == {"*"}


def _pin(reading: SlotReading) -> str | None:
    return None if _is_masked(reading.code) else reading.code


def _holds(reading: SlotReading, pin: str, *, exact: bool = False) -> bool:
    """Whether the slot holds ``pin``; a masked slot counts as holding it unless ``exact``."""
    if not _is_occupied(reading):
        return False
    return reading.code == pin or (not exact and _is_masked(reading.code))
