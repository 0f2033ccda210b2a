"""One listening connection to a Z-Wave JS server, kept for the life of the process.

Z-Wave JS pushes what happens on the network (a keypad opening, a node going dead, a value
the driver learnt) only to a client that is listening at that moment: there is no log to ask
afterwards. So the websocket is not opened and closed with each ``ProviderSession`` (one per
pass) but kept by a ``ZwaveJsLink`` per account in the registry's ``AccountLinks``
(``locks/links.py``): every pass, import and access poll of the process shares one
connection and one buffer of heard events, and ``Runtime.close`` ends it. The link runs its
own event loop in a daemon thread, so callers in any loop (each ``asyncio.run`` of the CLI)
reach it through ``call``; it reconnects on the next call after the server went away.

The link also keeps what doorcode itself read from a device (``remember``): the server's value
cache lags about a second behind a set, so a slot confirmed by a device read answers from that
read until the cache reports the slot again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp
from zwave_js_server.client import Client
from zwave_js_server.exceptions import BaseZwaveJSServerError

from doorcode.domain.clock import Clock
from doorcode.locks.errors import ProviderUnavailable

__all__ = ["CONNECT_WITHIN", "HeardEvent", "SlotReading", "ZwaveJsLink"]

LINK_CALL_TIMEOUT = 600.0
"""The longest one call may wait on the link's loop: a first inventory of a big lock over a slow
mesh takes minutes, but a link whose loop was stopped under a waiting call must not hang a
pass (and with it the lock) forever."""

logger = logging.getLogger(__name__)

CONNECT_WITHIN = timedelta(seconds=20)
"""Connecting and receiving the server's state dump; longer means the server is not there."""
T = TypeVar("T")
ClientFactory = Callable[[str, aiohttp.ClientSession], Client]
"""Builds the client (tests give one over a recorded state dump)."""
EVENTS_KEPT = 1000
"""Access events kept per node for the access pass to collect (it asks every minute or so)."""


@dataclass(frozen=True, slots=True)
class SlotReading:
    """One user-code slot as the device reported it: its status and its code (maybe masked)."""

    status: int
    code: str


@dataclass(frozen=True, slots=True)
class HeardEvent:
    """A notification or lock-state change the server pushed, stamped when it was heard."""

    node_id: int
    heard_at: datetime
    kind: str
    """``notification`` (Notification CC) or ``door_lock`` (Door Lock CC current mode)."""
    args: dict[str, Any]


class ZwaveJsLink:
    """The listening client of one server, its pushed events, and the slots read through it."""

    def __init__(self, url: str, clock: Clock, *, client_factory: ClientFactory = Client) -> None:
        self.url = url
        self._client_factory = client_factory
        self._clock = clock
        self._client: Client | None = None
        self._listening: asyncio.Task[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self._read: dict[tuple[int, int], SlotReading] = {}
        self._heard: dict[int, deque[HeardEvent]] = {}
        self._last_heard: datetime | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"zwave-js {url}", daemon=True
        )

    @classmethod
    def start(
        cls, url: str, clock: Clock, *, client_factory: ClientFactory = Client
    ) -> ZwaveJsLink:
        """A link whose loop runs in its own thread; it connects on the first call."""
        link = cls(url, clock, client_factory=client_factory)
        link._thread.start()
        return link

    def close(self) -> None:
        """Disconnect and end the thread (bounded: a stuck server does not hold us)."""
        if self._loop.is_closed() or not self._loop.is_running():
            return
        with contextlib.suppress(RuntimeError, TimeoutError):
            asyncio.run_coroutine_threadsafe(self._disconnect(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the link's loop and wait for it from the caller's loop."""
        if not self._loop.is_running():
            work.close()
            raise ProviderUnavailable("the Z-Wave JS link is closed")
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            # Not wait_for: on Python 3.11 it drops a cancellation that meets the answer, and
            # a pass told to stop would go on.
            async with asyncio.timeout(LINK_CALL_TIMEOUT):
                return await asyncio.wrap_future(future)
        except TimeoutError as err:
            minutes = int(LINK_CALL_TIMEOUT // 60)
            raise ProviderUnavailable(
                f"the Z-Wave JS link did not answer within {minutes} minutes"
            ) from err

    @property
    def is_alive(self) -> bool:
        """Whether the connection still listens (a dropped one is replaced by the next call)."""
        return self._listening is None or not self._listening.done()

    async def client(self) -> Client:
        """The connected client with the server's state, connecting on first use (link loop)."""
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._client is None or not self.is_alive:
                self._client = await self._connect()
            return self._client

    def remember(self, node_id: int, slot: int, reading: SlotReading) -> None:
        """What a device read of ``slot`` showed; answers before the lagging cache."""
        self._read[(node_id, slot)] = reading

    def recalled(self, node_id: int, slot: int) -> SlotReading | None:
        """The last device read of ``slot`` the cache has not reported since."""
        return self._read.get((node_id, slot))

    def heard(self, node_id: int) -> list[HeardEvent]:
        """Events pushed for ``node_id`` while this link listened, oldest first."""
        return list(self._heard.get(node_id, ()))

    async def _connect(self) -> Client:
        session = aiohttp.ClientSession()
        client = self._client_factory(self.url, session)
        ready = asyncio.Event()
        try:
            async with asyncio.timeout(CONNECT_WITHIN.total_seconds()):
                await client.connect()
                self._listening = asyncio.create_task(self._listen(client, session, ready))
                waiting = asyncio.ensure_future(ready.wait())
                await asyncio.wait({waiting, self._listening}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
        except (TimeoutError, aiohttp.ClientError, BaseZwaveJSServerError, OSError) as err:
            await session.close()
            raise ProviderUnavailable("the Z-Wave JS server cannot be reached") from err
        if not ready.is_set():
            raise ProviderUnavailable("the Z-Wave JS server closed the connection at start")
        self._read.clear()  # what was read before may have changed while nobody listened
        self._subscribe(client)
        return client

    async def _disconnect(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listening

    async def _listen(
        self, client: Client, session: aiohttp.ClientSession, ready: asyncio.Event
    ) -> None:
        """Receive until the server goes or the loop ends; then close what was opened."""
        try:
            await client.listen(ready)
        except (BaseZwaveJSServerError, aiohttp.ClientError, OSError) as err:
            logger.warning("the Z-Wave JS connection to %s ended: %s", self.url, type(err).__name__)
        finally:
            for unsubscribe in self._unsubscribe:
                unsubscribe()
            self._unsubscribe.clear()
            with contextlib.suppress(Exception):
                await client.disconnect()
            await session.close()

    def _subscribe(self, client: Client) -> None:
        assert client.driver is not None
        for node in client.driver.controller.nodes.values():
            self._unsubscribe += [
                node.on("notification", self._on_notification),
                node.on("value updated", self._on_value),
                node.on("value removed", self._on_value),
            ]

    def _on_notification(self, event: dict[str, Any]) -> None:
        """The server's ``notification`` event (its ``args`` carry type, event, parameters)."""
        self._hear(event["nodeId"], "notification", event.get("args", {}))

    def _on_value(self, event: dict[str, Any]) -> None:
        """The cache reported a slot again (drop our read of it), or the lock's mode changed."""
        args = event.get("args", {})
        if args.get("commandClass") == 99 and isinstance(args.get("propertyKey"), int):
            self._read.pop((event["nodeId"], args["propertyKey"]), None)
        elif args.get("commandClass") == 98 and args.get("property") == "currentMode":
            self._hear(event["nodeId"], "door_lock", args)

    def _hear(self, node_id: int, kind: str, args: dict[str, Any]) -> None:
        """Stamp with doorcode's clock, strictly later than the last: the cursor orders them."""
        now = self._clock()
        if self._last_heard is not None and now <= self._last_heard:
            now = self._last_heard + timedelta(microseconds=1)
        self._last_heard = now
        kept = self._heard.setdefault(node_id, deque(maxlen=EVENTS_KEPT))
        kept.append(HeardEvent(node_id, now, kind, dict(args)))
