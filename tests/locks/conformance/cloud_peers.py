"""The conformance suite's view of the TTLock and Nuki fakes, and their documented faults.

Locks come in as an owner's would: the account connected with the fake's URL as ``base_url``,
its devices imported. Faults are recorded answers served through ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessEventPage
from doorcode.locks.base import Device, LockProvider, NewCode, ProviderCode
from doorcode.locks.health import LockHealth
from doorcode.locks.nuki import NukiProvider
from doorcode.locks.nuki.client import NukiClient
from doorcode.locks.ttlock import TtlockProvider
from doorcode.locks.ttlock.client import TtlockClient, TtlockCredentials
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller
from doorcode.services.lock_import import import_locks
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import Lock
from tests.locks.fakes import nuki, ttlock
from tests.locks.fakes.accounts import CREDENTIALS

_NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def _import(runtime: Runtime, owner: Caller, kind: str, url: str) -> None:
    request = account_request(runtime.providers, kind, kind, CREDENTIALS[kind], {"base_url": url})
    connect_account(runtime.uow(), owner, request)
    asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, kind))


def _locks(runtime: Runtime, owner: Caller, kind: str, ids: list[str]) -> list[Lock]:
    with runtime.uow() as uow:
        found = [uow.locks.by_provider_id(kind, device_id) for device_id in ids]
    return [lock for lock in found if lock is not None]


class TtlockPeer:
    """The local TTLock cloud: gateway locks, codes written through the gateway."""

    def __init__(self, cloud: ttlock.TtlockCloud, url: str) -> None:
        self.cloud, self.url = cloud, url

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        ids = [str(self.cloud.add_lock(name)) for name in names]
        _import(runtime, owner, "ttlock", self.url)
        return _locks(runtime, owner, "ttlock", ids)

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        return [(p.name, p.pin) for p in self.cloud.codes_on_lock(int(lock.external_id))]

    def confirm_all(self, runtime: Runtime) -> None:
        for lock_id in list(self.cloud.locks):
            self.cloud.wake(lock_id)

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        with self.cloud.mutex:
            passcode_id = self.cloud._new_id()
            self.cloud.locks[int(lock.external_id)].passcodes[passcode_id] = ttlock.Passcode(
                passcode_id, name, pin, window.starts_at, window.ends_at, True, True
            )


class NukiPeer:
    """The local Nuki Web API: smartlocks with keypads, online."""

    def __init__(self, cloud: nuki.NukiCloud, url: str) -> None:
        self.cloud, self.url = cloud, url

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        ids = [str(self.cloud.add_smartlock(name)) for name in names]
        _import(runtime, owner, "nuki", self.url)
        return _locks(runtime, owner, "nuki", ids)

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        return [(a.name, str(a.code)) for a in self.cloud.codes_on_keypad(int(lock.external_id))]

    def confirm_all(self, runtime: Runtime) -> None:
        for smartlock_id in list(self.cloud.smartlocks):
            self.cloud.set_online(smartlock_id, True)

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        with self.cloud.mutex:
            auth_id = f"{len(self.cloud.smartlocks[int(lock.external_id)].auths):024x}"
            self.cloud.smartlocks[int(lock.external_id)].auths[auth_id] = nuki.Auth(
                auth_id,
                name,
                int(pin),
                nuki._iso(window.starts_at),
                nuki._iso(window.ends_at),
                127,
                nuki._iso(window.starts_at),
                True,
            )


class NumberedIds(LockProvider):
    """The suite names devices and codes symbolically ("dev", "c1"); TTLock and Nuki number
    them. This passes each call on with numbers, so every fault reaches the vendor's code."""

    _IDS: ClassVar[dict[str, str]] = {"dev": "7", "c1": "11"}

    def __init__(self, inner: LockProvider) -> None:
        self.inner = inner

    def _id(self, symbolic: str) -> str:
        return self._IDS.get(symbolic, symbolic)

    async def list_devices(self) -> list[Device]:
        return await self.inner.list_devices()

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        return await self.inner.list_codes(self._id(device_id))

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        return await self.inner.create_code(self._id(device_id), code)

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        return await self.inner.update_code(self._id(device_id), self._id(code_id), window)

    async def delete_code(self, device_id: str, code_id: str) -> None:
        await self.inner.delete_code(self._id(device_id), self._id(code_id))

    async def health(self, device_id: str) -> LockHealth:
        return await self.inner.health(self._id(device_id))

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        return await self.inner.access_events(self._id(device_id), cursor)


def ttlock_over(handler: Handler) -> LockProvider:
    """A TtlockProvider whose every request gets the recorded answer ``handler`` gives."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            grant = {"access_token": "a", "refresh_token": "r", "expires_in": 7776000}
            return httpx.Response(200, json=grant)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    credentials = TtlockCredentials("id", "secret", "user", "0" * 32)
    client = TtlockClient(http, credentials, clock=lambda: _NOW, base_url="https://ttlock.test")
    return NumberedIds(TtlockProvider(client, clock=lambda: _NOW))


def nuki_over(handler: Handler) -> LockProvider:
    """A NukiProvider whose every request gets the recorded answer ``handler`` gives."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = NukiClient(http, "token", base_url="https://nuki.test")
    return NumberedIds(NukiProvider(client, clock=lambda: _NOW))


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    """A recorded answer: JSON unless ``body`` is bytes."""

    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)

    return handler


def fail(error: Exception) -> Handler:
    """A request that never gets an answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def errcode(code: int) -> Handler:
    """TTLock's way to refuse: HTTP 200 with ``errcode``; the message repeats the PIN."""
    return answer(200, {"errcode": code, "errmsg": "passcode 482913 refused", "description": ""})


TRANSPORT_FAULTS: dict[str, Handler] = {
    "connect error": fail(httpx.ConnectError("refused")),
    "read timeout": fail(httpx.ReadTimeout("slow")),
    "protocol error": fail(httpx.RemoteProtocolError("half a response")),
    "429 retry-after": answer(429, {}, **{"Retry-After": "30"}),
    "500": answer(500, {"message": "code 482913"}),
    "503 empty": answer(503, b""),
    "200 not json": answer(200, b"<html>maintenance</html>"),
    "200 a list": answer(200, [1, 2]),
    "200 a number": answer(200, 7),
    "200 missing fields": answer(200, {}),
    "200 wrong types": answer(200, {"list": [{"lockId": "x"}], "keyboardPwdId": None}),
}
TTLOCK_FAULTS: dict[str, Handler] = {
    **TRANSPORT_FAULTS,
    **{f"errcode {code}": errcode(code) for code in (10004, 30006, -2012, -3009, -3036, -2009)},
}
NUKI_FAULTS: dict[str, Handler] = {
    **TRANSPORT_FAULTS,
    **{f"{status}": answer(status, {"detailMessage": "482913"}) for status in (400, 401, 403)},
    "404": answer(404, b""),
    "409": answer(409, b""),
    "423": answer(423, b""),
    "200 objects in the list": answer(200, [{"smartlockId": 7}, {"id": 3}]),
}
