"""``TtlockProvider``: the provider contract over one TTLock Open API account.

Codes are written through the lock's gateway and keep their own window (native scheduling, to
the minute), so a stay costs one write and TTLock expires the code itself. A Wi-Fi lock asleep
in power-saving mode takes a code only asynchronously: it is ``ACCEPTED`` until the passcode's
delivery status says the lock wrote it (``SET``) or refused it (``FAILED``). A lock without a
gateway cannot be programmed from the cloud: it is reported offline, with ``offline_codes``,
and ``issue_offline_code`` gets the vendor's algorithmic period code for it (whole hours, to be
used once within 24 hours of its start).

The account's stored credentials are ``client_id``, ``client_secret``, ``username`` and
``password_md5`` (or ``password``, hashed here); the option ``base_url`` points at another
region's host or a test peer. Access tokens live 90 days, longer than any provider instance,
so they are kept for the life of the process instead of being asked for again on every
pass: per account *and* per credentials, so an operator who reconnects the account with
another login or password never has the old login's tokens used on their behalf.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import ClassVar

import httpx

from doorcode.domain.clock import Clock
from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow, vendor_code_answers
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
    VendorOfflineCode,
)
from doorcode.locks.errors import CodeNotFound, NotSupported, UnknownDevice
from doorcode.locks.health import LockHealth
from doorcode.locks.known_codes import KnownCodes
from doorcode.locks.ttlock.client import (
    DEFAULT_BASE_URL,
    MAX_CUSTOM_CODES,
    Delivery,
    TtlockAsleep,
    TtlockClient,
    TtlockCredentials,
    TtlockLock,
    TtlockPasscode,
    TtlockTokens,
    md5_password,
)
from doorcode.locks.ttlock.events import access_event

__all__ = ["OFFLINE_CODE_RULES", "TtlockProvider"]

OFFLINE_CODE_RULES = (
    "This code works in whole hours: from the full hour at or before check-in to the full "
    "hour at or after check-out.",
    "Use it once within 24 hours of its start, or the lock stops accepting it.",
)
"""What the operator and the guest are told about a TTLock offline code."""
LIST_FRESH_FOR = timedelta(minutes=1)
"""How long one ``lock/list`` answers for the health of every lock of the account."""
LATE_UPLOAD = timedelta(days=1)
"""How late a record may reach the cloud (a gateway-less lock's records wait for an app)."""
_CODE_LENGTHS = frozenset(range(4, 10))
_TTLOCK_RULES = CodeConstraints(no_all_same=True, no_sequence=True)
"""-2032: TTLock refuses codes of one repeated digit or of consecutive digits."""
_TOKENS: dict[str, TtlockTokens] = {}


class TtlockProvider(LockProvider):
    """One TTLock account: its locks, their custom codes, records, and offline codes."""

    kind: ClassVar[str] = "ttlock"
    abilities: ClassVar[Abilities] = Abilities(
        native_scheduling=True,
        readable_pins=True,
        update_in_place=True,
        confirms_later=True,
        pushes_events=True,
        vendor_offline_codes=True,
        addressing=Addressing.BY_ID,
    )
    credential_names: ClassVar[tuple[str, ...]] = (
        "client_id",
        "client_secret",
        "username",
        "password",
    )
    optional_credential_names: ClassVar[tuple[str, ...]] = ("webhook_secret",)
    """``webhook_secret``: the unguessable token in the callback URL TTLock posts records to."""

    def __init__(self, client: TtlockClient, *, clock: Clock, account_id: str = "") -> None:
        self._client = client
        self._clock = clock
        self._account_id = account_id
        self._locks: dict[str, TtlockLock] = {}
        self._listed_at: datetime | None = None
        self._known = KnownCodes("TTLock has no such passcode on the lock")
        self._token_key = ""

    def __repr__(self) -> str:
        return f"TtlockProvider({self._account_id!r})"

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> TtlockProvider:
        """The provider for a stored TTLock account, over the lent ``http`` client."""
        password_md5 = account.credentials.get("password_md5") or md5_password(
            account.credential("password")
        )
        credentials = TtlockCredentials(
            account.credential("client_id"),
            account.credential("client_secret"),
            account.credential("username"),
            password_md5,
        )
        base_url = account.options.get("base_url", DEFAULT_BASE_URL)
        token_key = _token_key(account.account_id, credentials, base_url)
        client = TtlockClient(
            http, credentials, clock=clock, base_url=base_url, tokens=_TOKENS.get(token_key)
        )
        provider = cls(client, clock=clock, account_id=account.account_id)
        provider._token_key = token_key
        return provider

    async def aclose(self) -> None:
        """Keep the account's tokens for the next provider of this account and login."""
        if self._token_key and self._client.tokens is not None:
            _TOKENS[self._token_key] = self._client.tokens

    async def list_devices(self) -> list[Device]:
        """Every lock of the account; one without a gateway is offline with offline codes."""
        return [_device(lock) for lock in await self._client.list_locks()]

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every passcode on the lock, custom or not, with its PIN and window."""
        passcodes = await self._client.list_passcodes(_lock_id(device_id))
        codes = [_code(passcode) for passcode in passcodes]
        self._known.remember(device_id, codes)
        return codes

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Write the code through the gateway; TTLock answers once the lock holds it.

        A Wi-Fi lock asleep in power-saving mode gets it queued instead: ``ACCEPTED`` until
        a listing shows the lock took it.
        """
        window, lock_id = _pair(code.window), _lock_id(device_id)
        state = CodeState.SET
        try:
            passcode_id = await self._client.add_passcode(lock_id, code.name, code.code, window)
        except TtlockAsleep:
            passcode_id = await self._client.add_passcode(
                lock_id, code.name, code.code, window, asynchronous=True
            )
            state = CodeState.ACCEPTED
        created = ProviderCode(str(passcode_id), code.name, code.code, *_ends(window), state)
        self._known.remember(device_id, [created])
        return created

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move the window in place (both dates, always)."""
        known = await self._known.find(device_id, code_id, self.list_codes)
        if window is None:
            raise NotSupported("a TTLock period code cannot lose its window; recreate it")
        await self._client.change_passcode(
            _lock_id(device_id), _passcode_id(code_id), window.starts_at, window.ends_at
        )
        moved = replace(known, starts_at=window.starts_at, ends_at=window.ends_at)
        self._known.remember(device_id, [moved])
        return moved

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove the code through the gateway."""
        await self._client.delete_passcode(_lock_id(device_id), _passcode_id(code_id))
        self._known.forget(device_id, code_id)

    async def health(self, device_id: str) -> LockHealth:
        """Battery from ``lock/list``; online means a gateway reaches the lock.

        One listing a minute answers for every lock of the account, not a request per lock.
        """
        now = self._clock()
        if self._listed_at is None or now - self._listed_at >= LIST_FRESH_FOR:
            self._locks = {str(lock.lock_id): lock for lock in await self._client.list_locks()}
            self._listed_at = now
        found = self._locks.get(device_id)
        if found is None:
            raise UnknownDevice("TTLock has no such lock in this account")
        return _health(found)

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Records that reached the cloud after ``cursor`` (the last upload instant seen)."""
        uploaded_after = _from_cursor(cursor)
        since = None if uploaded_after is None else uploaded_after - LATE_UPLOAD
        records = await self._client.list_records(_lock_id(device_id), since)
        fresh = [
            record
            for record in records
            if uploaded_after is None
            or (record.server_date is not None and record.server_date > uploaded_after)
        ]
        events = tuple(e for e in (access_event(r) for r in fresh) if e is not None)
        uploads = [r.server_date for r in fresh if r.server_date is not None]
        next_cursor = _to_cursor(max(uploads)) if uploads else cursor
        return AccessEventPage(events, next_cursor)

    async def issue_offline_code(
        self, device_id: str, name: str, window: TimeWindow
    ) -> VendorOfflineCode:
        """TTLock's period offline code covering ``window`` in whole hours, with its rules.

        TTLock lists the codes it computed; one already issued under ``name`` for this window
        (its answer lost to a crash) is returned: asking again for the same hours is refused
        (-1026) and would leave the guest two codes.
        """
        lock_id = _lock_id(device_id)
        for passcode in await self._client.list_passcodes(lock_id):
            earlier = _issued_for(passcode, name, window, self._clock())
            if earlier is not None and passcode.pin:
                return _offline_code(passcode.pin, earlier, passcode.passcode_id)
        issued = await self._client.get_offline_code(
            lock_id, name, window.starts_at, window.ends_at
        )
        covers = TimeWindow(issued.starts_at, issued.ends_at)
        return _offline_code(issued.pin, covers, issued.passcode_id)


def _issued_for(
    passcode: TtlockPasscode, name: str, window: TimeWindow, now: datetime
) -> TimeWindow | None:
    """The hours of a computed (not custom) code of ``name`` answering ``window``, if it is one."""
    starts, ends = passcode.starts_at, passcode.ends_at
    if passcode.is_custom or passcode.name != name or starts is None or ends is None:
        return None
    issued = TimeWindow(starts, ends)
    return issued if vendor_code_answers(issued, window, now) else None


def _offline_code(pin: str, window: TimeWindow, passcode_id: int) -> VendorOfflineCode:
    return VendorOfflineCode(pin, window, str(passcode_id), OFFLINE_CODE_RULES)


def _token_key(account_id: str, credentials: TtlockCredentials, base_url: str) -> str:
    """Which tokens an account may reuse: those of the same login on the same host.

    A digest, so the memory of tokens holds no credential in clear.
    """
    login = "\0".join(
        (
            account_id,
            base_url,
            credentials.client_id,
            credentials.username,
            credentials.password_md5,
        )
    )
    return hashlib.sha256(login.encode()).hexdigest()


def _device(lock: TtlockLock) -> Device:
    capabilities = LockCapabilities(
        code_lengths=_CODE_LENGTHS,
        constraints=_TTLOCK_RULES,
        max_codes=MAX_CUSTOM_CODES,
        native_scheduling=True,
        online=lock.has_gateway,
        offline_codes=True,
    )
    return Device(str(lock.lock_id), lock.alias, capabilities, _health(lock))


def _health(lock: TtlockLock) -> LockHealth:
    """TTLock reports no last contact; a lock without a gateway is never online."""
    return LockHealth(lock.has_gateway, lock.battery_percent, None)


def _code(passcode: TtlockPasscode) -> ProviderCode:
    """A passcode and how far its (possibly asynchronous) delivery got."""
    delivery = passcode.delivery
    state = CodeState.FAILED if delivery.failed else CodeState.ACCEPTED
    return ProviderCode(
        str(passcode.passcode_id),
        passcode.name,
        passcode.pin,
        passcode.starts_at,
        passcode.ends_at,
        CodeState.SET if delivery is Delivery.NORMAL else state,
        f"the sleeping Wi-Fi lock reported {delivery.name.lower()}" if delivery.failed else None,
    )


def _lock_id(device_id: str) -> int:
    try:
        return int(device_id)
    except ValueError as err:
        raise UnknownDevice("a TTLock lock id is a number") from err


def _passcode_id(code_id: str) -> int:
    try:
        return int(code_id)
    except ValueError as err:
        raise CodeNotFound("a TTLock passcode id is a number") from err


def _pair(window: TimeWindow | None) -> tuple[datetime, datetime] | None:
    return None if window is None else (window.starts_at, window.ends_at)


def _ends(window: tuple[datetime, datetime] | None) -> tuple[datetime | None, datetime | None]:
    return (None, None) if window is None else window


def _from_cursor(cursor: str | None) -> datetime | None:
    return None if not cursor else datetime.fromisoformat(cursor)


def _to_cursor(instant: datetime) -> str:
    return instant.isoformat()
