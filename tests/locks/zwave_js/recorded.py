"""A Z-Wave JS server played back from a recorded state dump, answering every command with a fault.

``fixtures/zwave_js/state.json`` is what ``start_listening`` returned from the test peer (the
controller and one 4-slot lock, node 2, home id 7e570001). ``RecordedServer`` is the real
``zwave_js_server`` client with the socket replaced: it "connects" and "listens" from the dump,
and each command goes to a fault, which raises what a real server or network can, or answers
with something unexpected. That is how every exception the client can raise is shown to leave
the adapter as a ``ProviderError``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from zwave_js_server.client import Client
from zwave_js_server.exceptions import (
    CannotConnect,
    ConnectionClosed,
    FailedCommand,
    FailedZWaveCommand,
    InvalidMessage,
    InvalidServerVersion,
    NotConnected,
)
from zwave_js_server.model.driver import Driver
from zwave_js_server.model.version import VersionInfo

from doorcode.domain.clock import Clock
from doorcode.locks.zwave_js import ZwaveJsProvider
from doorcode.locks.zwave_js.link import ZwaveJsLink

STATE = json.loads((Path(__file__).parents[1] / "fixtures" / "zwave_js" / "state.json").read_text())
URL = "ws://recorded.invalid:3000"
DEVICE = "7e570001.2"
"""The recorded lock: node 2 of home 7e570001, four user-code slots."""

Fault = Callable[[dict[str, Any]], Any]
"""Given a command message: raise, or return the server's ``result``."""


class RecordedServer(Client):
    """The client, over the recorded dump instead of a socket; commands go to ``fault``."""

    def __init__(self, session: aiohttp.ClientSession, *, on_connect: Fault, fault: Fault) -> None:
        super().__init__(URL, session)
        self._on_connect = on_connect
        self._fault = fault
        self._open = False

    @property
    def connected(self) -> bool:
        return self._open

    async def connect(self) -> None:
        self._on_connect({"command": "connect"})
        self._open = True

    async def listen(self, driver_ready: asyncio.Event) -> None:
        self._on_connect({"command": "start_listening"})
        self.driver = Driver(self, json.loads(json.dumps(STATE)), {"enabled": False})
        driver_ready.set()
        await asyncio.Event().wait()

    async def disconnect(self) -> None:
        self._open = False

    async def async_send_command(
        self, message: dict[str, Any], require_schema: int | None = None
    ) -> dict[str, Any]:
        answer = self._fault(message)
        return {"response": answer, "responded": answer}


def provider_over(
    fault: Fault, clock: Clock, *, on_connect: Fault | None = None
) -> ZwaveJsProvider:
    """A provider whose server is the recording, its commands answered by ``fault``."""

    def recorded(url: str, session: aiohttp.ClientSession) -> Client:
        return RecordedServer(session, on_connect=on_connect or _fine, fault=fault)

    return ZwaveJsProvider(
        URL, clock=clock, link=ZwaveJsLink.start(URL, clock, client_factory=recorded)
    )


def _fine(message: dict[str, Any]) -> None:
    return None


def raising(error: Exception) -> Fault:
    def fault(message: dict[str, Any]) -> Any:
        raise error

    return fault


def answering(result: Any) -> Fault:
    return lambda message: result


def _zwave_error(code: int) -> FailedZWaveCommand:
    return FailedZWaveCommand("1", code, f"failed for code 482913 ({code})")


_VERSION = VersionInfo("15.29.0", "3.10.2", 0x7E570001, 0, 20)

CONNECT_FAULTS: dict[str, Fault] = {
    "cannot connect": raising(CannotConnect(aiohttp.ClientConnectionError("refused"))),
    "connection refused (OS)": raising(ConnectionRefusedError("refused")),
    "server too old": raising(InvalidServerVersion(_VERSION, 35, "schema 20 < 35")),
    "closed during start": raising(ConnectionClosed("closed")),
    "start_listening refused": raising(FailedCommand("1", "unknown_command")),
    "garbage at start": raising(InvalidMessage("not JSON")),
    "aiohttp error": raising(aiohttp.ServerDisconnectedError()),
}
"""Faults while connecting: every operation meets them first."""

COMMAND_FAULTS: dict[str, Fault] = {
    "node did not acknowledge (204)": raising(_zwave_error(204)),
    "controller timeout (200)": raising(_zwave_error(200)),
    "node timeout (201)": raising(_zwave_error(201)),
    "message dropped (202)": raising(_zwave_error(202)),
    "argument invalid (322)": raising(_zwave_error(322)),
    "another Z-Wave error": raising(_zwave_error(1)),
    "node not found": raising(FailedCommand("1", "node_not_found")),
    "unknown command": raising(FailedCommand("1", "unknown_command", "code 482913")),
    "not connected": raising(NotConnected("gone")),
    "closed mid-command": raising(ConnectionClosed("closed")),
    "an answer of another shape": answering(["what"]),
    "an empty answer": answering(None),
    "a refusal (supervision fail)": answering({"status": 2}),
}
"""Faults of one command: what zwave-js and its server answer when a lock does not."""
