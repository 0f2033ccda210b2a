"""A local TTLock Open API (v3) that behaves as the published docs say.

Errors come as ``errcode`` in HTTP 200; the ``date`` of every call must be within five minutes
of the fake's clock (80000); tokens expire (10004) and renew with the refresh token; custom codes
reach the lock only with ``addType`` 2 through a gateway (``addType`` 1 stays in the cloud and
opens nothing; a lock without a gateway answers -2012, an offline one -3036); Wi-Fi locks in
power-saving mode refuse ``addType`` 2 (-3035) and take ``addType`` 4 asynchronously, writing
the code when they wake; a change that lacks one of its dates is accepted and does nothing;
250 custom codes fill a lock (-3009); ``keyboardPwd/get`` computes a period code in whole hours
that dies unless used within 24 hours of its start; the keypad writes lock records, which reach
the cloud (and the callback URL) at once through a gateway, or when an app syncs them.

Tests drive it through ``TtlockCloud``: add locks, type codes, fail the next call, rate-limit.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CLIENT_ID = "fake-client"
CLIENT_SECRET = "fake-secret"
USERNAME = "host@example.com"
PASSWORD_MD5 = "5f4dcc3b5aa765d61d8327deb882cf99"  # md5("password")
TOKEN_LIFETIME = timedelta(days=90)
CAPACITY = 250
FIRST_USE_WITHIN = timedelta(hours=24)


class Refusal(Exception):
    """An answer with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = "refused") -> None:
        super().__init__(errmsg)
        self.errcode = errcode


@dataclass
class Passcode:
    passcode_id: int
    name: str
    pin: str
    starts_at: datetime | None
    ends_at: datetime | None
    custom: bool
    on_lock: bool
    first_used_at: datetime | None = None
    status: int = 1
    """Delivery status: 1 normal, 4 adding (queued for a sleeping lock), 5 add failed."""


@dataclass
class Record:
    record_id: int
    record_type: int
    success: bool
    username: str
    pin: str
    lock_date: datetime
    server_date: datetime | None = None
    record_type_from_lock: int | None = None


@dataclass
class FakeLock:
    lock_id: int
    alias: str
    battery: int = 80
    has_gateway: bool = True
    gateway_online: bool = True
    online: bool = True
    power_saving: bool = False
    passcodes: dict[int, Passcode] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    issued_windows: set[tuple[int, int]] = field(default_factory=set)


@dataclass
class Fault:
    path: str
    errcode: int | None = None
    status: int | None = None
    retry_after: int | None = None
    after: bool = False
    """Make the change, then answer the fault (a reply lost on the way back)."""


class TtlockCloud:
    """The fake cloud's state and its control interface for tests."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.mutex = threading.RLock()
        self.locks: dict[int, FakeLock] = {}
        self.access_tokens: dict[str, datetime] = {}
        self.refresh_tokens: set[str] = set()
        self.faults: deque[Fault] = deque()
        self.calls: Counter[str] = Counter()
        self.token_grants: Counter[str] = Counter()
        self.callback_url: str | None = None
        self.rate_limit: tuple[int, timedelta] | None = None
        self._window: tuple[datetime, int] | None = None
        self._next_id = 1000

    # -- control ---------------------------------------------------------------------------

    def add_lock(self, alias: str, **traits: Any) -> int:
        """Install a lock; ``has_gateway``, ``online``, ``power_saving``, ``battery`` optional."""
        with self.mutex:
            lock_id = self._new_id()
            self.locks[lock_id] = FakeLock(lock_id, alias, **traits)
            return lock_id

    def fail_next(
        self,
        path: str,
        *,
        errcode: int | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        after: bool = False,
    ) -> None:
        """The next call to ``path`` answers this errcode (in HTTP 200) or HTTP status.

        With ``after`` the call does its work first, as when the answer is lost on the way.
        """
        with self.mutex:
            self.faults.append(Fault(path, errcode, status, retry_after, after))

    def expire_tokens(self) -> None:
        """Every access token issued so far is revoked (10004 on next use)."""
        with self.mutex:
            self.access_tokens.clear()

    def wake(self, lock_id: int, *, refuse: bool = False) -> None:
        """A power-saving Wi-Fi lock wakes and writes the codes queued for it (or refuses them,
        which the cloud reports to the callback URL as notifyType 4)."""
        with self.mutex:
            queued = [p for p in self.locks[lock_id].passcodes.values() if p.status == 4]
            for passcode in queued:
                passcode.on_lock, passcode.status = not refuse, 5 if refuse else 1
            url = self.callback_url if refuse else None
        for passcode in queued if url else []:
            form = {
                "notifyType": "4",
                "lockId": str(lock_id),
                "lockMac": "AA:BB:CC:DD:EE:FF",
                "objectType": "2",
                "objectId": str(passcode.passcode_id),
                "errcode": "-3009",
            }
            httpx.post(str(url), data=form, timeout=5)

    def codes_on_lock(self, lock_id: int) -> list[Passcode]:
        """What the lock's own memory holds."""
        with self.mutex:
            return [p for p in self.locks[lock_id].passcodes.values() if p.on_lock]

    def enter(self, lock_id: int, pin: str) -> bool:
        """Type ``pin`` on the lock's keypad now; writes a record and says whether it opened."""
        with self.mutex:
            lock, now = self.locks[lock_id], self.clock()
            match = next((p for p in lock.passcodes.values() if p.on_lock and p.pin == pin), None)
            opened, raw = _judge(match, now)
            record = Record(self._new_id(), 4, opened, match.name if match else "", pin, now)
            record.record_type_from_lock = raw
            lock.records.append(record)
            if lock.has_gateway and lock.gateway_online:
                record.server_date = now
                url = self.callback_url
            else:
                url = None
        if url is not None:
            self._notify(url, lock_id, record)
        return opened

    def sync_records(self, lock_id: int) -> None:
        """An app near a gateway-less lock uploads its records."""
        with self.mutex:
            for record in self.locks[lock_id].records:
                record.server_date = record.server_date or self.clock()

    # -- the API ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        """The ASGI application."""
        routes = [
            Route("/oauth2/token", self._token, methods=["POST"]),
            Route("/v3/lock/list", self._api(self._lock_list), methods=["GET"]),
            Route("/v3/lock/listKeyboardPwd", self._api(self._list_codes), methods=["GET"]),
            Route("/v3/keyboardPwd/add", self._api(self._add), methods=["POST"]),
            Route("/v3/keyboardPwd/change", self._api(self._change), methods=["POST"]),
            Route("/v3/keyboardPwd/delete", self._api(self._delete), methods=["POST"]),
            Route("/v3/keyboardPwd/get", self._api(self._offline_code), methods=["POST"]),
            Route("/v3/lockRecord/list", self._api(self._records), methods=["GET"]),
        ]
        return Starlette(routes=routes)

    async def _token(self, request: Request) -> Response:
        form = dict(await request.form())
        with self.mutex:
            self.calls["/oauth2/token"] += 1
            self.token_grants[str(form.get("grant_type"))] += 1
            try:
                return JSONResponse(self._grant(form))
            except Refusal as refusal:
                return _refusal(refusal)

    def _grant(self, form: dict[str, Any]) -> dict[str, Any]:
        if (form.get("clientId"), form.get("clientSecret")) != (CLIENT_ID, CLIENT_SECRET):
            raise Refusal(10001, "invalid client")
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                raise Refusal(10011, "invalid refresh_token")
        elif (form.get("username"), form.get("password")) != (USERNAME, PASSWORD_MD5):
            raise Refusal(10007, "invalid account")
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.access_tokens[access] = self.clock() + TOKEN_LIFETIME
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "uid": 1,
            "openid": 1,
            "scope": "user,key,room",
            "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        }

    def _api(self, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            params = dict(request.query_params)
            if request.method == "POST":
                params.update(dict((await request.form()).items()))
            with self.mutex:
                self.calls[request.url.path] += 1
                try:
                    fault = self._take_fault(request.url.path)
                    if fault is not None and fault.after:
                        self._authorise(params)
                        handler(params)
                    if fault is not None and fault.status is not None:
                        headers = {"Retry-After": str(fault.retry_after or 1)}
                        return Response(status_code=fault.status, headers=headers)
                    if fault is not None and fault.errcode is not None:
                        raise Refusal(fault.errcode)
                    self._authorise(params)
                    return JSONResponse(handler(params))
                except Refusal as refusal:
                    return _refusal(refusal)

        return endpoint

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path == path:
                self.faults.remove(fault)
                return fault
        return None

    def _authorise(self, params: dict[str, Any]) -> None:
        now = self.clock()
        if params.get("clientId") != CLIENT_ID:
            raise Refusal(10000, "invalid client_id")
        expiry = self.access_tokens.get(str(params.get("accessToken")))
        if expiry is None or now >= expiry:
            raise Refusal(10004, "invalid grant")
        sent = _instant(int(params.get("date", 0)))
        if abs(sent - now) > timedelta(minutes=5):
            raise Refusal(80000, "date must be current time, in 5 minutes")
        self._count_rate(now)

    def _count_rate(self, now: datetime) -> None:
        if self.rate_limit is None:
            return
        limit, per = self.rate_limit
        if self._window is None or now >= self._window[0] + per:
            self._window = (now, 0)
        started, used = self._window
        if used >= limit:
            raise Refusal(30006, "exceeds the restrictions of API call number")
        self._window = (started, used + 1)

    def _lock(self, params: dict[str, Any]) -> FakeLock:
        lock = self.locks.get(int(params.get("lockId", 0)))
        if lock is None:
            raise Refusal(-1003, "lock does not exist")
        return lock

    def _lock_list(self, params: dict[str, Any]) -> dict[str, Any]:
        rows = [
            {
                "lockId": lock.lock_id,
                "lockName": f"S202_{lock.lock_id:x}",
                "lockAlias": lock.alias,
                "lockMac": f"AA:BB:CC:{lock.lock_id % 256:02X}:00:01",
                "electricQuantity": lock.battery,
                "featureValue": "F44354CD5F3",
                "hasGateway": int(lock.has_gateway),
            }
            for lock in self.locks.values()
        ]
        return _page(rows, params, 1000)

    def _list_codes(self, params: dict[str, Any]) -> dict[str, Any]:
        lock = self._lock(params)
        rows = [
            {
                "keyboardPwdId": p.passcode_id,
                "lockId": lock.lock_id,
                "keyboardPwd": p.pin,
                "keyboardPwdName": p.name,
                "keyboardPwdType": 3 if p.starts_at else 2,
                "startDate": _ms(p.starts_at) if p.starts_at else 0,
                "endDate": _ms(p.ends_at) if p.ends_at else 0,
                "isCustom": int(p.custom),
                "status": p.status,
                "sendDate": _ms(self.clock()),
            }
            for p in lock.passcodes.values()
        ]
        return _page(rows, params, 200)

    def _add(self, params: dict[str, Any]) -> dict[str, Any]:
        lock, pin = self._lock(params), str(params.get("keyboardPwd", ""))
        if not (pin.isdigit() and 4 <= len(pin) <= 9):
            raise Refusal(-3006, "invalid passcode length")
        if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
            raise Refusal(-2032, "passcode too simple")
        if any(p.pin == pin for p in lock.passcodes.values()):
            raise Refusal(-3007, "same passcode exists")
        if sum(p.custom for p in lock.passcodes.values()) >= CAPACITY:
            raise Refusal(-3009, "custom passcode storage full")
        add_type = int(params.get("addType", 1))
        if add_type == 2:
            self._reach(lock)
        elif add_type == 4 and not lock.power_saving:
            raise Refusal(-4043, "not supported")
        passcode = Passcode(
            self._new_id(),
            str(params.get("keyboardPwdName", "")),
            pin,
            _instant(int(params["startDate"])) if "startDate" in params else None,
            _instant(int(params["endDate"])) if "endDate" in params else None,
            custom=True,
            on_lock=add_type == 2,
            status=4 if add_type == 4 else 1,
        )
        lock.passcodes[passcode.passcode_id] = passcode
        return {"keyboardPwdId": passcode.passcode_id}

    def _reach(self, lock: FakeLock) -> None:
        """Whether a write through the gateway (or Wi-Fi) gets to the lock."""
        if lock.power_saving:
            raise Refusal(-3035, "wifi lock in power saving mode")
        if not lock.has_gateway:
            raise Refusal(-2012, "no gateway near the lock")
        if not lock.gateway_online:
            raise Refusal(-3002, "gateway offline")
        if not lock.online:
            raise Refusal(-3036, "lock offline")

    def _change(self, params: dict[str, Any]) -> dict[str, Any]:
        lock = self._lock(params)
        passcode = self._passcode(lock, params)
        if int(params.get("changeType", 1)) == 2:
            self._reach(lock)
        if "startDate" in params and "endDate" in params:
            passcode.starts_at = _instant(int(params["startDate"]))
            passcode.ends_at = _instant(int(params["endDate"]))
        if "keyboardPwdName" in params:
            passcode.name = str(params["keyboardPwdName"])
        return {"errcode": 0, "errmsg": "none error message"}

    def _delete(self, params: dict[str, Any]) -> dict[str, Any]:
        lock = self._lock(params)
        passcode = self._passcode(lock, params)
        if int(params.get("deleteType", 1)) == 2:
            self._reach(lock)
        del lock.passcodes[passcode.passcode_id]
        return {"errcode": 0, "errmsg": "none error message"}

    def _passcode(self, lock: FakeLock, params: dict[str, Any]) -> Passcode:
        passcode = lock.passcodes.get(int(params.get("keyboardPwdId", 0)))
        if passcode is None:
            raise Refusal(-2009, "passcode does not exist")
        return passcode

    def _offline_code(self, params: dict[str, Any]) -> dict[str, Any]:
        lock = self._lock(params)
        start, end = _instant(int(params["startDate"])), _instant(int(params["endDate"]))
        if start.minute or start.second or end.minute or end.second or end <= start:
            raise Refusal(-3, "period codes take whole hours")
        window = (_ms(start), _ms(end))
        if window in lock.issued_windows:
            raise Refusal(-1026, "this period was issued and deleted before")
        lock.issued_windows.add(window)
        pin = f"{secrets.randbelow(10**9 - 10**8) + 10**8}"
        name = str(params.get("keyboardPwdName", ""))
        passcode = Passcode(self._new_id(), name, pin, start, end, custom=False, on_lock=True)
        lock.passcodes[passcode.passcode_id] = passcode
        return {"keyboardPwd": pin, "keyboardPwdId": passcode.passcode_id}

    def _records(self, params: dict[str, Any]) -> dict[str, Any]:
        lock = self._lock(params)
        low = _instant(int(params.get("startDate", 0)))
        high = _instant(int(params["endDate"])) if "endDate" in params else None
        rows = [
            {
                "recordId": r.record_id,
                "lockId": lock.lock_id,
                "recordTypeFromLock": r.record_type_from_lock,
                "recordType": r.record_type,
                "success": int(r.success),
                "username": r.username,
                "keyboardPwd": r.pin,
                "lockDate": _ms(r.lock_date),
                "serverDate": _ms(r.server_date),
            }
            for r in reversed(lock.records)
            if r.server_date is not None
            and r.lock_date >= low
            and (high is None or r.lock_date <= high)
        ]
        return _page(rows, params, 200)

    def _notify(self, url: str, lock_id: int, record: Record) -> None:
        row = {
            "recordType": record.record_type,
            "success": int(record.success),
            "username": record.username,
            "keyboardPwd": record.pin,
            "lockDate": _ms(record.lock_date),
            "serverDate": _ms(record.server_date or record.lock_date),
            "electricQuantity": self.locks[lock_id].battery,
            "recordId": record.record_id,
        }
        form = {
            "notifyType": "1",
            "lockId": str(lock_id),
            "lockMac": "AA:BB:CC:DD:EE:FF",
            "records": json.dumps([row]),
        }
        httpx.post(url, data=form, timeout=5)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id


def _judge(match: Passcode | None, now: datetime) -> tuple[bool, int]:
    """What the lock decides, and the raw record type it logs (4 ok, 7 unknown, 11 timing)."""
    if match is None:
        return False, 7
    if (match.starts_at and now < match.starts_at) or (match.ends_at and now >= match.ends_at):
        return False, 11
    if not match.custom and match.first_used_at is None:
        if match.starts_at and now > match.starts_at + FIRST_USE_WITHIN:
            return False, 11
        match.first_used_at = now
    return True, 4


def _page(rows: list[dict[str, Any]], params: dict[str, Any], most: int) -> dict[str, Any]:
    size = int(params.get("pageSize", 20))
    if not 1 <= size <= most:
        raise Refusal(-3, "invalid pageSize")
    number = int(params.get("pageNo", 1))
    pages = max(1, -(-len(rows) // size))
    chunk = rows[(number - 1) * size : number * size]
    return {"list": chunk, "pageNo": number, "pageSize": size, "pages": pages, "total": len(rows)}


def _refusal(refusal: Refusal) -> JSONResponse:
    return JSONResponse(
        {"errcode": refusal.errcode, "errmsg": str(refusal), "description": str(refusal)}
    )


def _ms(instant: datetime | None) -> int:
    return int(instant.timestamp() * 1000) if instant is not None else 0


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
