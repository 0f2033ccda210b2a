"""The Nuki Web API (api.nuki.io), spoken over an injected ``httpx.AsyncClient``.

Keypad codes are smartlock authorizations of type 13. Three habits of this API shape the
client: creating one answers 204 with no body (so the caller finds the new code by listing);
an update replaces the whole authorization (a partial body silently drops its time limits, so
``update_keypad_code`` always sends every field); and failures are plain HTTP statuses, turned
into ``ProviderError`` here (``NUKI_STATUS_ERRORS``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    ProviderAuthFailed,
    ProviderError,
    ProviderUnavailable,
    UnknownDevice,
)
from doorcode.locks.http_errors import raise_for_transport, read_as, translated_transport

__all__ = [
    "DEFAULT_BASE_URL",
    "KEYPAD_CODE",
    "NAME_LENGTH",
    "NUKI_STATUS_ERRORS",
    "NukiClient",
    "NukiKeypadCode",
    "NukiLogEntry",
    "NukiSmartlock",
    "keypad_code_problem",
    "log_entry_from_json",
]

DEFAULT_BASE_URL = "https://api.nuki.io"
KEYPAD_CODE = 13
"""``type`` of a smartlock authorization that is a keypad code."""
NAME_LENGTH = 32
_VENDOR = "Nuki"
_ALL_WEEK = 127
_PIN = re.compile(r"^[1-9]{6}$")
_SERVER_OFFLINE = 4
_LOG_LIMIT = 50
_LOG_PAGES = 20

NUKI_STATUS_ERRORS: Mapping[int, tuple[type[ProviderError], str]] = {
    400: (CodeRefused, "Nuki refused a parameter of the code"),
    401: (ProviderAuthFailed, "Nuki refused the API token"),
    403: (ProviderAuthFailed, "the Nuki API token may not manage this lock"),
    404: (UnknownDevice, "Nuki has no such smartlock"),
    409: (DuplicateCode, "the smartlock already holds this code"),
    423: (LockOffline, "the smartlock is busy or unreachable"),
}
"""Every status Nuki documents for the calls doorcode makes, besides 429 and 5xx."""


@dataclass(frozen=True, slots=True)
class NukiSmartlock:
    """A smartlock as ``GET /smartlock`` describes it."""

    smartlock_id: int
    name: str
    online: bool
    battery_percent: int | None
    battery_critical: bool
    has_keypad: bool
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class NukiKeypadCode:
    """A keypad code (authorization type 13); ``code`` as Nuki reveals it to the account."""

    auth_id: str
    name: str
    code: str | None = field(repr=False)
    allowed_from: datetime | None
    allowed_until: datetime | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class NukiLogEntry:
    """One smartlock log entry; ``auth_id`` is the authorization that acted, if any."""

    log_id: str
    smartlock_id: int
    action: int
    trigger: int
    state: int
    auth_id: str | None
    name: str
    at: datetime


def keypad_code_problem(code: str) -> str | None:
    """Why Nuki's keypad would refuse ``code``, in words that do not repeat it, or None."""
    if not _PIN.match(code):
        return "a Nuki keypad code is six digits from 1 to 9"
    if code.startswith("12"):
        return "a Nuki keypad code may not start with 12"
    return None


class NukiClient:
    """One Nuki Web account (a bearer API token); raises only ``ProviderError``."""

    def __init__(
        self, http: httpx.AsyncClient, token: str, *, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        self._http = http
        self._token = token
        self._base_url = base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"NukiClient({self._base_url!r}, token=***)"

    @read_as(_VENDOR)
    async def list_smartlocks(self) -> list[NukiSmartlock]:
        """Every smartlock of the account."""
        rows = await self._json("GET", "/smartlock")
        return [_smartlock(row) for row in rows]

    @read_as(_VENDOR)
    async def list_keypad_codes(self, smartlock_id: int) -> list[NukiKeypadCode]:
        """Every keypad code on the smartlock."""
        rows = await self._json("GET", f"/smartlock/{smartlock_id}/auth", {"types": KEYPAD_CODE})
        return [_keypad_code(row) for row in rows if int(row.get("type", -1)) == KEYPAD_CODE]

    @read_as(_VENDOR)
    async def create_keypad_code(
        self, smartlock_id: int, name: str, code: str, allowed: tuple[datetime, datetime] | None
    ) -> None:
        """Ask Nuki to put a code on the keypad; it answers 204 with no id."""
        self._check_code(code)
        await self._send("PUT", f"/smartlock/{smartlock_id}/auth", _auth_body(name, code, allowed))

    @read_as(_VENDOR)
    async def update_keypad_code(
        self,
        smartlock_id: int,
        auth_id: str,
        name: str,
        code: str,
        allowed: tuple[datetime, datetime] | None,
    ) -> None:
        """Replace a keypad code with the whole body, so its time limits survive."""
        body = _auth_body(name, code, allowed)
        await self._send("POST", f"/smartlock/{smartlock_id}/auth/{auth_id}", body, code_path=True)

    @read_as(_VENDOR)
    async def delete_keypad_code(self, smartlock_id: int, auth_id: str) -> None:
        """Remove a keypad code."""
        await self._send("DELETE", f"/smartlock/{smartlock_id}/auth/{auth_id}", code_path=True)

    @read_as(_VENDOR)
    async def list_log(self, smartlock_id: int, since: datetime | None) -> list[NukiLogEntry]:
        """The smartlock's log since ``since``, oldest first.

        Nuki answers newest first, at most 50 entries a page; a full page is followed by the
        page before it (``toDate``), so a busy door loses no entry between two polls. Without
        ``since`` only the latest page comes: enough to start a cursor.
        """
        found: dict[str, NukiLogEntry] = {}
        before: datetime | None = None
        for _ in range(_LOG_PAGES):
            query: dict[str, Any] = {"limit": _LOG_LIMIT}
            if since is not None:
                query["fromDate"] = nuki_instant(since)
            if before is not None:
                query["toDate"] = nuki_instant(before)
            rows = await self._json("GET", f"/smartlock/{smartlock_id}/log", query)
            page = [log_entry_from_json(row) for row in rows]
            fresh = [entry for entry in page if entry.log_id not in found]
            found.update({entry.log_id: entry for entry in fresh})
            if since is None or len(page) < _LOG_LIMIT or not fresh:
                break
            before = min(entry.at for entry in page)
        return sorted(found.values(), key=lambda entry: (entry.at, entry.log_id))

    def _check_code(self, code: str) -> None:
        problem = keypad_code_problem(code)
        if problem is not None:
            raise CodeRefused(problem)

    async def _json(self, method: str, path: str, query: dict[str, Any] | None = None) -> Any:
        response = await self._request(method, path, params=query)
        try:
            return response.json()
        except ValueError as err:
            raise ProviderUnavailable("Nuki answered something that is not JSON") from err

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        code_path: bool = False,
    ) -> None:
        await self._request(method, path, json=body, code_path=code_path)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        code_path: bool = False,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        async with translated_transport(_VENDOR):
            response = await self._http.request(
                method, self._base_url + path, params=params, json=json, headers=headers
            )
        _raise_for_status(response, code_path=code_path)
        return response


def _raise_for_status(response: httpx.Response, *, code_path: bool) -> None:
    """The ``ProviderError`` Nuki's status stands for; 404 on a code's path is that code."""
    raise_for_transport(response, _VENDOR)
    status = response.status_code
    if status < httpx.codes.BAD_REQUEST:
        return
    if status == httpx.codes.NOT_FOUND and code_path:
        raise CodeNotFound("Nuki has no such keypad code")
    kind, message = NUKI_STATUS_ERRORS.get(status, (ProviderError, "Nuki refused the request"))
    raise kind(f"{message} (HTTP {status})")


def _auth_body(name: str, code: str, allowed: tuple[datetime, datetime] | None) -> dict[str, Any]:
    """Every field of a keypad authorization: Nuki replaces, it does not merge."""
    body: dict[str, Any] = {
        "name": name[:NAME_LENGTH],
        "type": KEYPAD_CODE,
        "code": int(code),
        "allowedWeekDays": _ALL_WEEK,
        "allowedFromTime": 0,
        "allowedUntilTime": 0,
    }
    if allowed is not None:
        body["allowedFromDate"] = nuki_instant(allowed[0])
        body["allowedUntilDate"] = nuki_instant(allowed[1])
    return body


def nuki_instant(instant: datetime) -> str:
    """Nuki's ISO 8601 form, in UTC with milliseconds and a Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{instant.microsecond // 1000:03d}Z"
    )


def _parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _smartlock(row: Mapping[str, Any]) -> NukiSmartlock:
    state = row.get("state") or {}
    charge = state.get("batteryCharge")
    return NukiSmartlock(
        int(row["smartlockId"]),
        str(row.get("name") or row["smartlockId"]),
        int(row.get("serverState", 0)) != _SERVER_OFFLINE,
        int(charge) if charge is not None else None,
        bool(state.get("batteryCritical", False)),
        _has_keypad(row.get("config") or {}),
        _parse_instant(row.get("updateDate")),
    )


def _has_keypad(config: Mapping[str, Any]) -> bool:
    """A paired Keypad (first model) or Keypad 2; a smartlock that does not say is given one."""
    if "keypadPaired" not in config and "keypad2Paired" not in config:
        return True
    return bool(config.get("keypadPaired")) or bool(config.get("keypad2Paired"))


def _keypad_code(row: Mapping[str, Any]) -> NukiKeypadCode:
    code = row.get("code")
    return NukiKeypadCode(
        str(row["id"]),
        str(row.get("name") or ""),
        str(code) if code is not None else None,
        _parse_instant(row.get("allowedFromDate")),
        _parse_instant(row.get("allowedUntilDate")),
        bool(row.get("enabled", True)),
    )


def log_entry_from_json(row: Mapping[str, Any]) -> NukiLogEntry:
    """A log entry from ``/smartlock/{id}/log`` or a ``DEVICE_LOGS`` webhook."""
    at = _parse_instant(row.get("date"))
    if at is None:
        raise ProviderUnavailable("Nuki sent a log entry without a date")
    auth_id = row.get("authId")
    return NukiLogEntry(
        str(row["id"]),
        int(row["smartlockId"]),
        int(row.get("action", 0)),
        int(row.get("trigger", 0)),
        int(row.get("state", 0)),
        str(auth_id) if auth_id else None,
        str(row.get("name") or ""),
        at,
    )
