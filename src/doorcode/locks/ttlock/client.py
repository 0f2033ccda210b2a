"""The TTLock Open API (v3), spoken over an injected ``httpx.AsyncClient``.

TTLock's cloud answers almost everything with HTTP 200 and reports failures as ``errcode``
inside the JSON body; this client turns every documented ``errcode`` into a ``ProviderError``
(``TTLOCK_ERRORS``) so nothing above it sees the vendor's numbers. Writes are form-encoded
POSTs, reads are GETs, and every call carries ``clientId``, ``accessToken`` and ``date`` (the
caller's clock in milliseconds; the cloud refuses one more than five minutes off, 80000).

Access comes from OAuth's password grant with the TTLock *app* account's password hashed to
lowercase MD5 hex; a token lives 90 days, and an expired one (10004) is refreshed once with the
refresh token before the call is repeated.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from doorcode.domain.clock import Clock
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderAuthFailed,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
)
from doorcode.locks.http_errors import raise_for_transport, read_as, translated_transport

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_CUSTOM_CODES",
    "TTLOCK_ERRORS",
    "Delivery",
    "TtlockAsleep",
    "TtlockClient",
    "TtlockCredentials",
    "TtlockLock",
    "TtlockOfflineCode",
    "TtlockPasscode",
    "TtlockRecord",
    "TtlockTokenExpired",
    "TtlockTokens",
    "md5_password",
    "record_from_json",
    "ttlock_error",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://euapi.ttlock.com"
MAX_CUSTOM_CODES = 250
"""A lock's memory holds at most 250 custom passcodes (-3009 beyond)."""
_VENDOR = "TTLock"
_GATEWAY = 2
"""``addType``/``changeType``/``deleteType`` 2: through the gateway (or the lock's own Wi-Fi).

``addType`` 1 only records a code in the cloud after an app wrote it over Bluetooth: such a
code never reaches the lock and opens nothing."""
_ASYNC = 4
"""``addType`` 4: queued for a Wi-Fi lock in power-saving mode, written when it wakes; the
passcode's ``status`` says how far it got (``DELIVERY``)."""
_PERMANENT = 2
_PERIOD = 3
"""``keyboardPwdType`` 3: valid between startDate and endDate."""
_OFFLINE_CODE_VERSION = 4
_PAGE = 200
_SHORT_WAIT = timedelta(minutes=1)
_MONTHLY_WAIT = timedelta(days=1)


class TtlockTokenExpired(ProviderAuthFailed):
    """10004: the access token expired or was revoked; the client renews it once."""


class TtlockAsleep(LockOffline):
    """-3035: a Wi-Fi lock in power-saving mode takes writes only asynchronously (addType 4)."""


TTLOCK_ERRORS: Mapping[int, tuple[type[ProviderError], str, timedelta | None]] = {
    1: (ProviderUnavailable, "the operation failed", None),
    10000: (ProviderAuthFailed, "the TTLock application id does not exist", None),
    10001: (ProviderAuthFailed, "the TTLock application credentials are wrong", None),
    10003: (ProviderAuthFailed, "the TTLock access token does not exist", None),
    10004: (TtlockTokenExpired, "the TTLock access token expired or was revoked", None),
    10007: (ProviderAuthFailed, "the TTLock account name or password is wrong", None),
    10011: (ProviderAuthFailed, "the TTLock refresh token is invalid", None),
    20002: (ProviderAuthFailed, "the TTLock account is not an admin of this lock", None),
    30006: (RateLimited, "TTLock's call limit was reached", _SHORT_WAIT),
    30007: (RateLimited, "TTLock's monthly call quota is used up", _MONTHLY_WAIT),
    30008: (ProviderAuthFailed, "this TTLock account belongs to another region's host", None),
    80000: (ProviderUnavailable, "TTLock refused our clock (more than 5 minutes off)", None),
    80002: (ProviderUnavailable, "TTLock could not read our request", None),
    90000: (ProviderUnavailable, "TTLock had an internal error", None),
    -3: (CodeRefused, "TTLock refused a parameter", None),
    -1003: (UnknownDevice, "TTLock has no such lock", None),
    -1007: (CodeRefused, "the lock holds no offline passcode data", None),
    -1026: (CodeRefused, "an offline code for this window was issued and deleted", None),
    -2009: (CodeNotFound, "TTLock has no such passcode", None),
    -2012: (LockOffline, "no gateway reaches this lock", None),
    -2018: (ProviderAuthFailed, "the TTLock account may not manage this lock", None),
    -2025: (LockOffline, "the lock is frozen", None),
    -2032: (CodeRefused, "the lock refuses a code this simple", None),
    -3002: (LockOffline, "the lock's gateway is offline", None),
    -3003: (ProviderUnavailable, "the lock's gateway is busy", None),
    -3006: (CodeRefused, "the lock takes codes of 4 to 9 digits", None),
    -3007: (DuplicateCode, "the lock already holds this code", None),
    -3008: (CodeRefused, "the lock cannot change a code never used on it", None),
    -3009: (NoSpaceLeft, "the lock holds 250 custom codes already", None),
    -3034: (LockOffline, "the Wi-Fi lock has no network configured", None),
    -3035: (TtlockAsleep, "the Wi-Fi lock is in power-saving mode", None),
    -3036: (LockOffline, "the lock is offline", None),
    -3037: (ProviderUnavailable, "the lock is busy", None),
    -4043: (CodeRefused, "the lock does not support this operation", None),
    -4056: (NoSpaceLeft, "the lock's storage is full", None),
}
"""Every documented ``errcode`` doorcode can meet, with the error it becomes."""


def md5_password(password: str) -> str:
    """TTLock's OAuth wants the app account's password as lowercase MD5 hex."""
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class TtlockCredentials:
    """An application (client id and secret) and the TTLock app account it acts for."""

    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password_md5: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TtlockTokens:
    """An OAuth access token, the token that renews it, and when it stops working."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TtlockLock:
    """A lock as ``lock/list`` describes it."""

    lock_id: int
    alias: str
    battery_percent: int | None
    has_gateway: bool


@dataclass(frozen=True, slots=True)
class TtlockPasscode:
    """A passcode as ``lock/listKeyboardPwd`` describes it."""

    passcode_id: int
    name: str
    pin: str | None = field(repr=False)
    starts_at: datetime | None
    ends_at: datetime | None
    is_custom: bool
    delivery: Delivery = field(default_factory=lambda: Delivery.NORMAL)


class Delivery(enum.IntEnum):
    """A passcode's ``status``: where an asynchronous write to a sleeping lock stands."""

    NORMAL = 1
    ADDING = 4
    ADD_FAILED = 5
    MODIFYING = 6
    MODIFY_FAILED = 7
    DELETING = 8
    DELETE_FAILED = 9

    @property
    def pending(self) -> bool:
        """The cloud took the change; the lock has not confirmed it yet."""
        return self in (Delivery.ADDING, Delivery.MODIFYING, Delivery.DELETING)

    @property
    def failed(self) -> bool:
        """The lock woke and refused, or never took, the change."""
        return self in (Delivery.ADD_FAILED, Delivery.MODIFY_FAILED, Delivery.DELETE_FAILED)


@dataclass(frozen=True, slots=True)
class TtlockOfflineCode:
    """An algorithmic period code from ``keyboardPwd/get``: the lock checks it with no network.

    Its window is whole hours, and it must be used once within 24 hours of its start or the
    lock forgets it.
    """

    passcode_id: int
    pin: str = field(repr=False)
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class TtlockRecord:
    """One lock record (``lockRecord/list`` or the callback); the typed PIN is not kept."""

    record_id: str
    lock_id: int
    record_type: int
    success: bool
    username: str
    lock_date: datetime
    server_date: datetime | None = None
    record_type_from_lock: int | None = None


class TtlockClient:
    """One TTLock account's view of the Open API; raises only ``ProviderError``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: TtlockCredentials,
        *,
        clock: Clock,
        base_url: str = DEFAULT_BASE_URL,
        tokens: TtlockTokens | None = None,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"TtlockClient({self._credentials.client_id!r}, {self._base_url!r})"

    # -- locks and passcodes --------------------------------------------------------------

    @read_as(_VENDOR)
    async def list_locks(self) -> list[TtlockLock]:
        """Every lock of the account, page by page."""
        rows = await self._pages("/v3/lock/list", {})
        return [_lock(row) for row in rows]

    @read_as(_VENDOR)
    async def list_passcodes(self, lock_id: int) -> list[TtlockPasscode]:
        """Every passcode the cloud knows on the lock."""
        rows = await self._pages("/v3/lock/listKeyboardPwd", {"lockId": lock_id})
        return [_passcode(row) for row in rows]

    @read_as(_VENDOR)
    async def add_passcode(
        self,
        lock_id: int,
        name: str,
        pin: str,
        window: tuple[datetime, datetime] | None,
        *,
        asynchronous: bool = False,
    ) -> int:
        """Write a custom code through the gateway (permanent without a window).

        ``asynchronous`` queues it for a Wi-Fi lock in power-saving mode (which refuses a
        direct write with -3035); the passcode is then ``Delivery.ADDING`` until the lock wakes.
        """
        fields: dict[str, Any] = {
            "lockId": lock_id,
            "keyboardPwd": pin,
            "keyboardPwdName": name,
            "keyboardPwdType": _PERMANENT if window is None else _PERIOD,
            "addType": _ASYNC if asynchronous else _GATEWAY,
        }
        if window is not None:
            fields |= {"startDate": _ms(window[0]), "endDate": _ms(window[1])}
        answer = await self._call("POST", "/v3/keyboardPwd/add", fields)
        return int(answer["keyboardPwdId"])

    @read_as(_VENDOR)
    async def change_passcode(
        self, lock_id: int, passcode_id: int, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Move a passcode's window; both dates always go, as one alone is silently ignored."""
        await self._call(
            "POST",
            "/v3/keyboardPwd/change",
            {
                "lockId": lock_id,
                "keyboardPwdId": passcode_id,
                "startDate": _ms(starts_at),
                "endDate": _ms(ends_at),
                "changeType": _GATEWAY,
            },
        )

    @read_as(_VENDOR)
    async def delete_passcode(self, lock_id: int, passcode_id: int) -> None:
        """Remove a passcode from the lock through its gateway."""
        await self._call(
            "POST",
            "/v3/keyboardPwd/delete",
            {"lockId": lock_id, "keyboardPwdId": passcode_id, "deleteType": _GATEWAY},
        )

    @read_as(_VENDOR)
    async def get_offline_code(
        self, lock_id: int, name: str, starts_at: datetime, ends_at: datetime
    ) -> TtlockOfflineCode:
        """The vendor's algorithmic period code covering the window, widened to whole hours."""
        start, end = _whole_hours(starts_at, ends_at)
        answer = await self._call(
            "POST",
            "/v3/keyboardPwd/get",
            {
                "lockId": lock_id,
                "keyboardPwdVersion": _OFFLINE_CODE_VERSION,
                "keyboardPwdType": _PERIOD,
                "keyboardPwdName": name,
                "startDate": _ms(start),
                "endDate": _ms(end),
            },
        )
        return TtlockOfflineCode(
            int(answer["keyboardPwdId"]), str(answer["keyboardPwd"]), start, end
        )

    @read_as(_VENDOR)
    async def list_records(self, lock_id: int, since: datetime | None) -> list[TtlockRecord]:
        """The lock's records uploaded to the cloud since ``since``, oldest first."""
        query: dict[str, Any] = {"lockId": lock_id}
        if since is not None:
            query["startDate"] = _ms(since)
            query["endDate"] = _ms(self._clock() + timedelta(days=1))
        rows = await self._pages("/v3/lockRecord/list", query)
        records = [record_from_json(row, lock_id) for row in rows]
        return sorted(records, key=lambda record: (record.lock_date, record.record_id))

    # -- the wire -------------------------------------------------------------------------

    async def _pages(self, path: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self._call("GET", path, {**query, "pageNo": page, "pageSize": _PAGE})
            rows.extend(answer.get("list") or [])
            if page >= int(answer.get("pages") or 1):
                return rows
            page += 1

    async def _call(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """One API call, renewing an expired token once."""
        tokens = await self._valid_tokens()
        try:
            return await self._signed(method, path, params, tokens)
        except TtlockTokenExpired:
            pass
        logger.info("TTLock access token expired; renewing it")
        return await self._signed(method, path, params, await self._refresh(tokens))

    async def _signed(
        self, method: str, path: str, params: dict[str, Any], tokens: TtlockTokens
    ) -> dict[str, Any]:
        fields = {
            **params,
            "clientId": self._credentials.client_id,
            "accessToken": tokens.access_token,
            "date": _ms(self._clock()),
        }
        url = self._base_url + path
        async with translated_transport(_VENDOR):
            if method == "GET":
                response = await self._http.get(url, params=fields)
            else:
                response = await self._http.post(url, data=fields)
        return _checked(response)

    async def _valid_tokens(self) -> TtlockTokens:
        if self.tokens is None:
            return await self._grant({"grant_type": "password", **self._account()})
        if self._clock() >= self.tokens.expires_at:
            return await self._refresh(self.tokens)
        return self.tokens

    async def _refresh(self, tokens: TtlockTokens) -> TtlockTokens:
        """Renew with the refresh token; a refused one falls back to the password grant."""
        try:
            return await self._grant(
                {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
            )
        except ProviderAuthFailed:
            return await self._grant({"grant_type": "password", **self._account()})

    def _account(self) -> dict[str, str]:
        return {"username": self._credentials.username, "password": self._credentials.password_md5}

    async def _grant(self, grant: dict[str, str]) -> TtlockTokens:
        form = {
            "clientId": self._credentials.client_id,
            "clientSecret": self._credentials.client_secret,
            **grant,
        }
        async with translated_transport(_VENDOR):
            response = await self._http.post(self._base_url + "/oauth2/token", data=form)
        answer = _checked(response)
        if "access_token" not in answer:
            raise ProviderAuthFailed("TTLock refused the account's credentials")
        self.tokens = TtlockTokens(
            answer["access_token"],
            answer["refresh_token"],
            self._clock() + timedelta(seconds=int(answer.get("expires_in", 0))),
        )
        return self.tokens


def _checked(response: httpx.Response) -> dict[str, Any]:
    """The JSON answer, or the ``ProviderError`` its status or ``errcode`` stands for."""
    raise_for_transport(response, _VENDOR)
    if response.status_code != httpx.codes.OK:
        raise ProviderUnavailable(f"TTLock answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as err:
        raise ProviderUnavailable("TTLock answered something that is not JSON") from err
    if not isinstance(answer, dict):
        raise ProviderUnavailable("TTLock answered an unexpected shape")
    errcode = answer.get("errcode", 0)
    if errcode not in (0, None):
        raise ttlock_error(int(errcode))
    return answer


def ttlock_error(errcode: int) -> ProviderError:
    """The ``ProviderError`` a TTLock ``errcode`` stands for; its message names the number."""
    kind, message, wait = TTLOCK_ERRORS.get(
        errcode, (ProviderError, "TTLock refused the request", None)
    )
    return kind(f"{message} (TTLock {errcode})", retry_after=wait)


def record_from_json(row: Mapping[str, Any], lock_id: int) -> TtlockRecord:
    """A record from the API or the callback; the PIN (``keyboardPwd``) is dropped here."""
    record_id = row.get("recordId")
    lock_date = int(row["lockDate"])
    fallback = f"{lock_date}-{row.get('recordType')}-{row.get('serverDate', '')}"
    raw_type = row.get("recordTypeFromLock")
    server_date = row.get("serverDate")
    return TtlockRecord(
        str(record_id) if record_id is not None else fallback,
        int(row.get("lockId", lock_id)),
        int(row["recordType"]),
        int(row.get("success", 0)) == 1,
        str(row.get("username") or ""),
        _instant(lock_date),
        _instant(int(server_date)) if server_date else None,
        int(raw_type) if raw_type is not None else None,
    )


def _lock(row: Mapping[str, Any]) -> TtlockLock:
    battery = row.get("electricQuantity")
    return TtlockLock(
        int(row["lockId"]),
        str(row.get("lockAlias") or row.get("lockName") or row["lockId"]),
        int(battery) if battery is not None and int(battery) >= 0 else None,
        int(row.get("hasGateway", 0)) == 1,
    )


def _passcode(row: Mapping[str, Any]) -> TtlockPasscode:
    start, end = int(row.get("startDate") or 0), int(row.get("endDate") or 0)
    pin = row.get("keyboardPwd")
    return TtlockPasscode(
        int(row["keyboardPwdId"]),
        str(row.get("keyboardPwdName") or ""),
        str(pin) if pin else None,
        _instant(start) if start else None,
        _instant(end) if end else None,
        int(row.get("isCustom", 0)) == 1,
        _delivery(row.get("status")),
    )


def _delivery(status: Any) -> Delivery:
    """The documented delivery status; an absent or unknown one is a normal passcode."""
    try:
        return Delivery(int(status))
    except (TypeError, ValueError):
        return Delivery.NORMAL


def _whole_hours(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The smallest whole-hour window covering the given one (offline codes keep hours)."""
    start = starts_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = ends_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if end < ends_at:
        end += timedelta(hours=1)
    return start, end


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
