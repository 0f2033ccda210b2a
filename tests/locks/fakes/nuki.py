"""A local Nuki Web API that behaves as the published docs (and forum reports) say.

Bearer token or 401; keypad codes are smartlock authorizations of type 13, six digits 1-9 that
do not start with 12 and are unique on the lock (400 / 409 otherwise); creating one answers
204 with no body and no id; an update (POST) replaces the authorization with the body sent, so
a body without ``allowedFromDate``/``allowedUntilDate`` silently drops the time limits; a
smartlock that is offline (serverState 4) still takes a code, which reaches its keypad when it
comes back; the log answers newest first; decentral webhooks get a secret and every delivery is
signed ``X-Nuki-Signature-SHA256`` = HMAC-SHA256 of the body with that secret.

Tests drive it through ``NukiCloud``: add smartlocks, type codes, fail the next call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "fake-nuki-api-token"
NAME_LENGTH = 32
_PIN = re.compile(r"^[1-9]{6}$")
UNLOCK, TRIGGER_KEYPAD, WRONG_CODE = 1, 255, 224


@dataclass
class Auth:
    auth_id: str
    name: str
    code: int
    allowed_from: str | None
    allowed_until: str | None
    week_days: int
    created: str
    on_keypad: bool


@dataclass
class FakeSmartlock:
    smartlock_id: int
    name: str
    online: bool = True
    battery: int = 90
    keypad: int | None = 1
    """Which Nuki Keypad is paired (1 or 2), or None."""
    last_seen: datetime | None = None
    auths: dict[str, Auth] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Fault:
    method: str
    path: str
    status: int
    retry_after: int | None = None
    after: bool = False
    """Make the change, then answer the fault (a reply lost on the way back)."""


class NukiCloud:
    """The fake cloud's state and its control interface for tests."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.mutex = threading.RLock()
        self.smartlocks: dict[int, FakeSmartlock] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()
        self.calls: Counter[str] = Counter()
        self._next_id = 17_000_000

    # -- control ---------------------------------------------------------------------------

    def add_smartlock(self, name: str, **traits: Any) -> int:
        """Install a smartlock with a keypad; ``online`` and ``battery`` optional."""
        with self.mutex:
            self._next_id += 1
            lock = FakeSmartlock(self._next_id, name, **traits)
            lock.last_seen = self.clock()
            self.smartlocks[self._next_id] = lock
            return self._next_id

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        retry_after: int | None = None,
        *,
        after: bool = False,
    ) -> None:
        """The next ``method`` call to ``path`` answers HTTP ``status`` (after its work too)."""
        with self.mutex:
            self.faults.append(Fault(method, path, status, retry_after, after))

    def set_online(self, smartlock_id: int, online: bool) -> None:
        """The smartlock loses or regains its bridge; back online, queued codes reach it."""
        with self.mutex:
            lock = self.smartlocks[smartlock_id]
            lock.online = online
            lock.last_seen = self.clock()
            if online:
                for auth in lock.auths.values():
                    auth.on_keypad = True

    def codes_on_keypad(self, smartlock_id: int) -> list[Auth]:
        """What the keypad itself holds."""
        with self.mutex:
            return [a for a in self.smartlocks[smartlock_id].auths.values() if a.on_keypad]

    def enter(self, smartlock_id: int, pin: str) -> bool:
        """Type ``pin`` on the keypad now: logs it, delivers DEVICE_LOGS webhooks."""
        with self.mutex:
            lock, now = self.smartlocks[smartlock_id], self.clock()
            auth = next(
                (a for a in lock.auths.values() if a.on_keypad and str(a.code) == pin), None
            )
            opened = auth is not None and _within(auth, now)
            entry = {
                "id": secrets.token_hex(12),
                "smartlockId": smartlock_id,
                "deviceType": 4,
                "authId": auth.auth_id if auth else "",
                "name": auth.name if auth else "",
                "action": UNLOCK,
                "trigger": TRIGGER_KEYPAD,
                "state": 0 if opened else WRONG_CODE,
                "autoUnlock": False,
                "date": _iso(now),
            }
            lock.log.append(entry)
            hooks = [h for h in self.webhooks if "DEVICE_LOGS" in h["webhookFeatures"]]
        for hook in hooks:
            body = json.dumps({"feature": "DEVICE_LOGS", "smartlockLog": entry}).encode()
            signature = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
            httpx.post(
                hook["webhookUrl"],
                content=body,
                headers={"Content-Type": "application/json", "X-Nuki-Signature-SHA256": signature},
                timeout=5,
            )
        return opened

    # -- the API ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        """The ASGI application."""
        routes = [
            Route("/smartlock", self._api(self._list), methods=["GET"]),
            Route("/smartlock/{sid:int}", self._api(self._one), methods=["GET"]),
            Route("/smartlock/{sid:int}/auth", self._api(self._auths), methods=["GET"]),
            Route("/smartlock/{sid:int}/auth", self._api(self._create), methods=["PUT"]),
            Route("/smartlock/{sid:int}/auth/{aid}", self._api(self._update), methods=["POST"]),
            Route("/smartlock/{sid:int}/auth/{aid}", self._api(self._delete), methods=["DELETE"]),
            Route("/smartlock/{sid:int}/log", self._api(self._log), methods=["GET"]),
            Route("/api/decentralWebhook", self._api(self._webhook), methods=["PUT"]),
        ]
        return Starlette(routes=routes)

    def _api(self, handler: Callable[[Request, Any], Response]) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.json() if request.method in ("PUT", "POST") else None
            with self.mutex:
                self.calls[f"{request.method} {request.url.path}"] += 1
                if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return Response(status_code=401)
                fault = self._take_fault(request.method, request.url.path)
                if fault is not None and fault.after:
                    handler(request, body)
                if fault is not None:
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                    return Response(status_code=fault.status, headers=headers)
                return handler(request, body)

        return endpoint

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if (fault.method, fault.path) == (method, path):
                self.faults.remove(fault)
                return fault
        return None

    def _smartlock(self, request: Request) -> FakeSmartlock | None:
        return self.smartlocks.get(int(request.path_params["sid"]))

    def _list(self, request: Request, body: Any) -> Response:
        rows = [self._smartlock_row(lock) for lock in self.smartlocks.values()]
        return JSONResponse(rows)

    def _one(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        return JSONResponse(self._smartlock_row(lock)) if lock else Response(status_code=404)

    def _smartlock_row(self, lock: FakeSmartlock) -> dict[str, Any]:
        seen = self.clock() if lock.online else (lock.last_seen or self.clock())
        return {
            "smartlockId": lock.smartlock_id,
            "type": 4,
            "name": lock.name,
            "serverState": 0 if lock.online else 4,
            "adminPinState": 0,
            "config": {"keypadPaired": lock.keypad == 1, "keypad2Paired": lock.keypad == 2},
            "state": {
                "mode": 2,
                "state": 1,
                "batteryCritical": lock.battery < 20,
                "batteryCharge": lock.battery,
            },
            "updateDate": _iso(seen),
        }

    def _auths(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        if lock is None:
            return Response(status_code=404)
        return JSONResponse([_auth_row(lock, auth) for auth in lock.auths.values()])

    def _create(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        if lock is None:
            return Response(status_code=404)
        problem = _refusal(lock, body, None)
        if problem is not None:
            return Response(status_code=problem)
        auth_id = secrets.token_hex(12)
        lock.auths[auth_id] = _auth(auth_id, body, _iso(self.clock()), lock.online)
        return Response(status_code=204)

    def _update(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        auth_id = str(request.path_params["aid"])
        if lock is None or auth_id not in lock.auths:
            return Response(status_code=404)
        problem = _refusal(lock, body, auth_id)
        if problem is not None:
            return Response(status_code=problem)
        old = lock.auths[auth_id]
        lock.auths[auth_id] = _auth(auth_id, body, old.created, old.on_keypad or lock.online)
        return Response(status_code=204)

    def _delete(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        auth_id = str(request.path_params["aid"])
        if lock is None or lock.auths.pop(auth_id, None) is None:
            return Response(status_code=404)
        return Response(status_code=204)

    def _log(self, request: Request, body: Any) -> Response:
        lock = self._smartlock(request)
        if lock is None:
            return Response(status_code=404)
        since = request.query_params.get("fromDate")
        until = request.query_params.get("toDate")
        limit = int(request.query_params.get("limit", 20))
        if not 1 <= limit <= 50:
            return Response(status_code=400)
        rows = [
            e
            for e in reversed(lock.log)
            if (since is None or _at(e["date"]) >= _at(since))
            and (until is None or _at(e["date"]) <= _at(until))
        ]
        return JSONResponse(rows[:limit])

    def _webhook(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not str(body.get("webhookUrl", "")).startswith("http"):
            return Response(status_code=400)
        hook = {
            "id": len(self.webhooks) + 1,
            "webhookUrl": body["webhookUrl"],
            "webhookFeatures": list(body.get("webhookFeatures") or []),
            "secret": secrets.token_hex(20),
        }
        self.webhooks.append(hook)
        return JSONResponse(hook)


def _refusal(lock: FakeSmartlock, body: Any, auth_id: str | None) -> int | None:
    """The status Nuki answers for a bad keypad authorization, or None when it is fine."""
    if not isinstance(body, dict) or body.get("type") != 13:
        return 400
    code, name = str(body.get("code", "")), str(body.get("name", ""))
    if not _PIN.match(code) or code.startswith("12") or not 0 < len(name) <= NAME_LENGTH:
        return 400
    if any(str(a.code) == code and a.auth_id != auth_id for a in lock.auths.values()):
        return 409
    return None


def _auth(auth_id: str, body: dict[str, Any], created: str, on_keypad: bool) -> Auth:
    """An authorization exactly as sent: a field left out is gone."""
    return Auth(
        auth_id,
        str(body["name"]),
        int(body["code"]),
        body.get("allowedFromDate"),
        body.get("allowedUntilDate"),
        int(body.get("allowedWeekDays", 127)),
        created,
        on_keypad,
    )


def _auth_row(lock: FakeSmartlock, auth: Auth) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": auth.auth_id,
        "smartlockId": lock.smartlock_id,
        "authId": int(auth.auth_id[:6], 16),
        "type": 13,
        "name": auth.name,
        "enabled": True,
        "code": auth.code,
        "allowedWeekDays": auth.week_days,
        "allowedFromTime": 0,
        "allowedUntilTime": 0,
        "creationDate": auth.created,
        "lockCount": 0,
    }
    if auth.allowed_from is not None:
        row["allowedFromDate"] = auth.allowed_from
    if auth.allowed_until is not None:
        row["allowedUntilDate"] = auth.allowed_until
    return row


def _within(auth: Auth, now: datetime) -> bool:
    if auth.allowed_from is not None and now < _at(auth.allowed_from):
        return False
    return auth.allowed_until is None or now < _at(auth.allowed_until)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
