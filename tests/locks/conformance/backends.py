"""The back-ends the conformance suite runs against, each with its test peer.

A new back-end proves itself by appending one ``Backend`` to ``BACKENDS`` (and its faults to
``VENDOR_FAULTS``): the suite then runs the reconciler's guarantees against it. A ``Peer`` is
the suite's view of the vendor's side: put a device there, read what the device holds, have
the device confirm what its cloud accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy import select

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import LockProvider, NewCode
from doorcode.locks.seam import SeamProvider
from doorcode.locks.tags import grant_id_from_tag, tag_for
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller
from doorcode.services.lock_import import import_locks
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import Lock, LockCode
from doorcode.sync.provisioning import install_virtual_locks
from tests.locks.conformance.cloud_peers import (
    NUKI_FAULTS,
    TTLOCK_FAULTS,
    nuki_over,
    ttlock_over,
)
from tests.locks.zigbee2mqtt.peer import zigbee2mqtt_peer
from tests.locks.zwave_js.recorded import CONNECT_FAULTS as ZWAVE_CONNECT_FAULTS
from tests.locks.zwave_js.recorded import answering
from tests.locks.zwave_js.recorded import provider_over as zwave_over
from tests.sync.helpers import cloud_of

_NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Peer(Protocol):
    """The vendor's side of one back-end, as the suite needs it."""

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        """Devices at the vendor, known to doorcode as locks (imported where the vendor lists)."""

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        """(name, PIN or None) of every code the device holds."""

    def confirm_all(self, runtime: Runtime) -> None:
        """Every device reports set what its cloud accepted."""

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        """A code appears on the device as a pass that crashed before recording left it."""


@dataclass(frozen=True)
class Backend:
    """One back-end and how to bring up its peer for a test."""

    name: str
    peer: Callable[[pytest.FixtureRequest], Peer]


class VirtualPeer:
    """The in-process virtual cloud."""

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        details = [
            LockDetails(name, capabilities=LockCapabilities(code_lengths=frozenset({6})))
            for name in names
        ]
        locks = [add_lock(runtime.uow(), owner, d) for d in details]
        install_virtual_locks(runtime)
        return locks

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        return [(code.name, code.code) for code in cloud_of(runtime).codes_on(lock.external_id)]

    def confirm_all(self, runtime: Runtime) -> None:
        return None

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        cloud_of(runtime).add_by_hand(lock.external_id, name, pin, window)


class SeamPeerAdapter:
    """Seam's own fake, reached through a connected account and an import."""

    def __init__(self, peer: Any) -> None:
        self.peer = peer

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        ids = [f"dev_{n}" for n in range(len(names))]
        for device_id, name in zip(ids, names, strict=True):
            self.peer.add_device(device_id, name, supported_code_lengths=[4, 6], online=True)
        request = account_request(
            runtime.providers,
            "seam",
            "Seam",
            {"api_key": self.peer.api_key},
            {"base_url": self.peer.api_url},
        )
        connect_account(runtime.uow(), owner, request)
        asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Seam"))
        with runtime.uow() as uow:
            return [uow.locks.find(owner.organisation_id, device_id) for device_id in ids]

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        return [
            (code["name"], code["code"])
            for code in self.peer.codes()
            if code["device_id"] == lock.external_id
        ]

    def confirm_all(self, runtime: Runtime) -> None:
        self.peer.confirm_all()

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        async def create() -> None:
            async with httpx.AsyncClient() as http:
                seam = SeamProvider(http, self.peer.api_key, self.peer.api_url, runtime.clock)
                await seam.create_code(lock.external_id, NewCode(name, pin, window))

        asyncio.run(create())


class ZwavePeerAdapter:
    """The real zwave-js driver with simulated locks, reached through a connected account.

    Slots carry no names: a slot is a grant's when doorcode recorded it there, the owner's
    codes sit below doorcode's range, and a code "left by a crash" is one whose slot doorcode
    recorded before writing (as the reconciler does) and that reached the lock.
    """

    def __init__(self, peer: Any) -> None:
        self.peer = peer
        self.by_hand: dict[tuple[str, int], str] = {}

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        request = account_request(
            runtime.providers, "zwave_js", "Z-Wave", {}, {"url": self.peer.url}
        )
        connect_account(runtime.uow(), owner, request)
        asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Z-Wave"))
        with runtime.uow() as uow:
            locks = uow.session.scalars(
                select(Lock).where(Lock.provider == "zwave_js").order_by(Lock.external_id)
            ).all()
        return list(locks[: len(names)])

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        with runtime.uow() as uow:
            rows = uow.session.scalars(select(LockCode).where(LockCode.lock_id == lock.id))
            holders = {row.slot: row.grant_id for row in rows if row.slot is not None}
        held = []
        for slot, pin in self.peer.slots(_node_of(lock)).items():
            name = self.by_hand.get((lock.id, slot))
            if name is None:
                grant_id = holders.get(slot)
                name = tag_for(grant_id) if grant_id else f"slot {slot}"
            held.append((name, pin))
        return held

    def confirm_all(self, runtime: Runtime) -> None:
        return None

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        grant_id = grant_id_from_tag(name)
        if grant_id is None:  # the owner's code, in a slot the owner keeps
            slot = 1
            self.by_hand[(lock.id, slot)] = name
        else:  # doorcode recorded the slot, wrote the code, and died before recording that
            slot = lock.slot_first or 4
            with runtime.uow() as uow:
                assert uow.lock_sync.reserve_slot(lock.id, grant_id, slot)
                uow.commit()
        self.peer.put(_node_of(lock), slot, pin)


def _node_of(lock: Lock) -> int:
    return int(lock.external_id.rpartition(".")[2])


BACKENDS: list[Backend] = [
    Backend("virtual", lambda request: VirtualPeer()),
    Backend("seam", lambda request: SeamPeerAdapter(request.getfixturevalue("seam_peer"))),
    Backend("ttlock", lambda request: request.getfixturevalue("ttlock_peer")),
    Backend("nuki", lambda request: request.getfixturevalue("nuki_peer")),
    Backend("zwave_js", lambda request: ZwavePeerAdapter(request.getfixturevalue("zwave_peer"))),
    Backend("zigbee2mqtt", zigbee2mqtt_peer),
]
"""Append a back-end here to run the whole suite against it."""


@dataclass(frozen=True)
class VendorFaults:
    """How to build a back-end's provider over a recorded answer, and its documented faults.

    ``provider(handler)`` builds the provider with an ``httpx.MockTransport(handler)``;
    each fault is a handler: a function from request to a response, or one that raises.
    """

    name: str
    provider: Callable[[Callable[[httpx.Request], httpx.Response]], LockProvider]
    faults: dict[str, Callable[[httpx.Request], httpx.Response]]


def _seam(handler: Callable[[httpx.Request], httpx.Response]) -> LockProvider:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SeamProvider(http, "seam_key", "https://connect.example", lambda: _NOW)


def _answer(
    status: int, body: Any = None, **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        return httpx.Response(status, content=content, headers=headers)

    return handler


def _raise(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def _seam_error(
    status: int, kind: str, **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    return _answer(
        status, {"ok": False, "error": {"type": kind, "message": "code 482913 refused"}}, **headers
    )


VENDOR_FAULTS: list[VendorFaults] = [
    VendorFaults(
        "seam",
        _seam,
        {
            "connect error": _raise(httpx.ConnectError("refused")),
            "read timeout": _raise(httpx.ReadTimeout("slow")),
            "connect timeout": _raise(httpx.ConnectTimeout("slow")),
            "protocol error": _raise(httpx.RemoteProtocolError("half a response")),
            "400 invalid input": _seam_error(400, "invalid_input"),
            "400 device offline": _seam_error(400, "device_offline"),
            "400 slots full": _seam_error(400, "august_device_slots_full"),
            "401": _seam_error(401, "unauthorized"),
            "403": _seam_error(403, "forbidden"),
            "404 device": _seam_error(404, "device_not_found"),
            "404 code": _seam_error(404, "access_code_not_found"),
            "409 duplicate": _seam_error(409, "duplicate_access_code"),
            "422": _seam_error(422, "invalid_input"),
            "429 retry-after": _seam_error(429, "rate_limited", **{"Retry-After": "30"}),
            "429 http date": _seam_error(
                429, "rate_limited", **{"Retry-After": "Tue, 01 Dec 2026 12:01:00 GMT"}
            ),
            "500": _seam_error(500, "internal"),
            "503 empty": _answer(503, b""),
            "200 not json": _answer(200, b"<html>maintenance</html>"),
            "200 a list": _answer(200, b"[1, 2]"),
            "200 missing fields": _answer(200, {"ok": True}),
            "418 other": _seam_error(418, "teapot"),
        },
    ),
]
VENDOR_FAULTS += [
    VendorFaults("ttlock", ttlock_over, TTLOCK_FAULTS),
    VendorFaults("nuki", nuki_over, NUKI_FAULTS),
    VendorFaults(
        "zwave_js",
        lambda fault: zwave_over(answering(None), lambda: _NOW, on_connect=fault),
        ZWAVE_CONNECT_FAULTS,  # each command's faults: tests/locks/zwave_js/test_faults.py
    ),
]
"""Append a back-end's documented faults here; each must leave as a ``ProviderError``."""
