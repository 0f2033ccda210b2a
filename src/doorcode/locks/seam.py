"""Seam (seam.co): one API in front of August, Yale, Schlage, Kwikset, igloohome and more.

Every call is a POST with a JSON body, as Seam's docs show (``/devices/list``,
``/access_codes/create`` ...), over the lent ``httpx.AsyncClient``, with the workspace's API
key as a bearer token. Seam keeps a time-bound code's window itself (native scheduling: it
programs the lock ahead of the start and removes the code at the end), and answers a write
before the lock has it: ``setting``/``unset`` are ``ACCEPTED``, only ``set`` is ``SET``.

Offline access codes (igloohome-style locks, ``can_program_offline_access_codes``): Seam
computes a code the lock checks without a network, in whole hours; doorcode asks for one per
stay where a lock cannot be programmed online and tells the guest Seam's rules for it. Codes
of Seam's backup pool (``is_backup``) are Seam's reserve, not the owner's: they are not listed.
On a device that keeps a pool (``supports_backup_access_code_pool``) every time-bound code is
created with ``use_backup_access_code_pool``, and ``pull_backup_code`` hands out its backup
when the code has not reached the lock in time. Every code of one grant version carries the
same ``common_code_key``, so Seam knows the codes of a grant's locks must stay one code.
Whether a device keeps a pool is asked once (``devices/get``) and believed for
``POOL_BELIEVED_FOR`` across passes (``SeamDeviceFacts``, the account's link): asked before
every create, it was a third 200 ms call in each pass that puts a code on a lock.

Quirks kept on purpose (harmless against the real API, needed against Seam's own fake):
``access_codes/list`` is filtered by device on our side; ``update`` and ``delete`` send only
``access_code_id``; an update always sends both ``starts_at`` and ``ends_at``.

Errors are mapped by HTTP status and Seam's ``error.type``; Seam's own messages are not
repeated (they can quote the PIN).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from doorcode.domain.clock import Clock
from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.svix import SignatureError, verify_svix_signature
from doorcode.domain.windows import TimeWindow, vendor_code_answers
from doorcode.locks.access_events import (
    AccessEvent,
    AccessEventPage,
    AccessMethod,
    AccessOutcome,
    RefusalReason,
)
from doorcode.locks.base import (
    Abilities,
    CodeState,
    Device,
    LockProvider,
    NewCode,
    ProviderAccount,
    ProviderCode,
    RateLimits,
    VendorOfflineCode,
)
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    ProviderAuthFailed,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
    WebhookRefused,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.http_errors import translated_transport
from doorcode.locks.links import AccountLinks

__all__ = [
    "POOL_BELIEVED_FOR",
    "SEAM_API",
    "SeamDeviceFacts",
    "SeamProvider",
    "parse_seam_webhook",
    "seam_error",
]

SEAM_API = "https://connect.getseam.com"
POOL_BELIEVED_FOR = timedelta(hours=1)
"""How long what ``devices/get`` said about a device's backup pool holds before it is asked again
(each hourly health answer tells it again, so a lock in use is rarely asked for it alone)."""
EVENT_LOOKBACK = timedelta(days=7)
"""How far back the first ``events/list`` looks, before a cursor exists."""
_ACCESS_EVENTS = ("lock.unlocked", "lock.access_denied")
_METHODS = {
    "keycode": AccessMethod.KEYPAD,
    "manual": AccessMethod.MANUAL,
    "remote": AccessMethod.APP,
    "automatic": AccessMethod.UNKNOWN,
}
_STATES = {"set": CodeState.SET}
_OFFLINE_TYPES = frozenset({"device_offline", "device_disconnected", "hub_disconnected"})
_FULL_TYPES = frozenset(
    {"max_access_codes_reached", "august_device_slots_full", "no_space_for_access_code_on_device"}
)
_CODE_NOT_FOUND_TYPES = frozenset(
    {"access_code_not_found", "not_found", "backup_access_code_not_found"}
)
_WHOLE_HOURS_RULE = (
    "This code works in whole hours: from the full hour at or before check-in to the full "
    "hour at or after check-out."
)
_BACKUP_RULE = (
    "This lock had not confirmed your usual code in time: this backup code opens it for your stay."
)
_USE_WITHIN_24_HOURS_RULE = (
    "Use it once within 24 hours of its start, or the lock stops accepting it."
)

logger = logging.getLogger(__name__)


class SeamDeviceFacts:
    """Whether each device of one account keeps a backup pool, and when Seam said so.

    Kept per account for the life of the process (a link in ``AccountLinks``, as a radio
    back-end keeps its connection): a provider is built per pass, and what one pass learned
    saves the next its ``devices/get``. Only this flag is kept; codes are always read afresh.
    """

    def __init__(self) -> None:
        self._pools: dict[str, tuple[bool, datetime]] = {}

    def keeps_pool(self, device_id: str, now: datetime) -> bool | None:
        """What Seam said within ``POOL_BELIEVED_FOR``, or None: ask it again."""
        known = self._pools.get(device_id)
        if known is None or now - known[1] >= POOL_BELIEVED_FOR:
            return None
        return known[0]

    def learn(self, device_id: str, device: Mapping[str, Any], now: datetime) -> bool:
        """Remember what a device answer says about the pool; that answer."""
        properties = device.get("properties") or {}
        keeps = properties.get("supports_backup_access_code_pool") is True
        self._pools[device_id] = (keeps, now)
        return keeps

    def close(self) -> None:
        """Nothing to end: facts, not a connection."""


class SeamProvider(LockProvider):
    """A Seam workspace, through its API key."""

    kind = "seam"
    abilities = Abilities(
        native_scheduling=True,
        expires_codes=True,
        readable_pins=True,
        update_in_place=True,
        confirms_later=True,
        pushes_events=True,
        vendor_offline_codes=True,
        backup_pool=True,
    )
    credential_names = ("api_key",)
    optional_credential_names = ("webhook_secret",)
    rate_limits = RateLimits(creates_per_device=10, per=timedelta(minutes=1))
    resolution = timedelta(seconds=1)

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        base_url: str,
        clock: Clock,
        devices: SeamDeviceFacts | None = None,
    ) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._devices = devices if devices is not None else SeamDeviceFacts()
        """Whether each device keeps a backup pool: the account's, when built by a registry."""

    def __repr__(self) -> str:
        return f"SeamProvider({self._base_url!r}, api_key=***)"

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> SeamProvider:
        """The provider of a stored Seam workspace."""
        base_url = account.options.get("base_url") or SEAM_API
        return cls(http, account.credential("api_key"), base_url, clock)

    @classmethod
    def build(
        cls,
        account: ProviderAccount,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        links: AccountLinks,
    ) -> SeamProvider:
        """The account's provider, with the device facts earlier passes learned."""
        base_url = account.options.get("base_url") or SEAM_API
        key = f"seam:{account.account_id}:{base_url}"
        devices = links.get(key, SeamDeviceFacts, SeamDeviceFacts)
        return cls(http, account.credential("api_key"), base_url, clock, devices)

    async def list_devices(self) -> list[Device]:
        """Devices that take access codes, with the properties Seam reports."""
        answer = await self._post("/devices/list", {})
        devices = []
        with _reading():
            for device in answer.get("devices", []):
                if _takes_codes(device):
                    devices.append(_device(device))
                else:
                    logger.info("seam device %s takes no chosen PINs", device["device_id"])
        return devices

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every code on the device, filtered on our side (see the module's quirks)."""
        with _reading():
            return [_code(code) for code in await self._raw_codes(device_id)]

    async def _raw_codes(self, device_id: str) -> list[Mapping[str, Any]]:
        """The device's codes as Seam shapes them, its backup pool left out."""
        answer = await self._post("/access_codes/list", {"device_id": device_id})
        with _reading():
            return [
                code
                for code in answer.get("access_codes", [])
                if code["device_id"] == device_id and not code.get("is_backup")
            ]

    async def issue_offline_code(
        self, device_id: str, name: str, window: TimeWindow
    ) -> VendorOfflineCode:
        """Seam's offline access code for ``window`` in whole hours, with its rules.

        One already asked for under ``name`` for these hours (its answer lost) is returned
        instead of a second; one asked for before the stay moved is not (its hours would
        outlast the stay). While Seam is still computing it, the call fails and is tried again.
        """
        covers = _whole_hours(window)
        for raw in await self._raw_codes(device_id):
            if raw.get("is_offline_access_code") and raw.get("name") == name:
                with _reading():
                    found = _code(raw)
                if found.window is not None and vendor_code_answers(
                    found.window, window, self._clock()
                ):
                    return _offline_code(raw, found)
        body = {
            "device_id": device_id,
            "name": name,
            **_window_body(covers),
            "is_offline_access_code": True,
            "use_offline_access_code": True,
            "max_time_rounding": "1h",
        }
        answer = await self._post("/access_codes/create", body)
        with _reading():
            raw = answer["access_code"]
            return _offline_code(raw, _code(raw))

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Create the code; Seam answers before the lock has it (``ACCEPTED``)."""
        body: dict[str, Any] = {"device_id": device_id, "name": code.name, "code": code.code}
        if code.shared_key is not None:
            body["common_code_key"] = code.shared_key
        if code.window is not None:
            body |= _window_body(code.window)
            if await self._keeps_pool(device_id):
                body["use_backup_access_code_pool"] = True
        answer = await self._post("/access_codes/create", body)
        with _reading():
            return _code(answer["access_code"])

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move the window (both ends always sent), then read the code back."""
        body: dict[str, Any] = {"access_code_id": code_id}
        body |= _window_body(window) if window is not None else {"type": "ongoing"}
        await self._post("/access_codes/update", body)
        answer = await self._post("/access_codes/get", {"access_code_id": code_id})
        with _reading():
            return _code(answer["access_code"])

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove the code (only its id is sent)."""
        await self._post("/access_codes/delete", {"access_code_id": code_id})

    async def pull_backup_code(self, device_id: str, code_id: str) -> VendorOfflineCode:
        """The pool's backup for ``code_id``; Seam gives the same one when asked again."""
        if not await self._keeps_pool(device_id):
            raise NotSupported("this Seam device keeps no backup codes")
        answer = await self._post(
            "/access_codes/pull_backup_access_code", {"access_code_id": code_id}
        )
        with _reading():
            backup = _code(answer["backup_access_code"])
        window = backup.window or await self._window_of(code_id)
        if not backup.code or window is None:
            raise ProviderUnavailable("Seam's backup code has no code or window yet")
        return VendorOfflineCode(backup.code, window, backup.code_id, (_BACKUP_RULE,))

    async def _window_of(self, code_id: str) -> TimeWindow | None:
        """The window of the code a backup stands in for (a pool code may show none)."""
        answer = await self._post("/access_codes/get", {"access_code_id": code_id})
        with _reading():
            return _code(answer["access_code"]).window

    async def _keeps_pool(self, device_id: str) -> bool:
        known = self._devices.keeps_pool(device_id, self._clock())
        if known is not None:
            return known
        answer = await self._post("/devices/get", {"device_id": device_id})
        with _reading():
            return self._devices.learn(device_id, answer["device"], self._clock())

    async def health(self, device_id: str) -> LockHealth:
        """Online and battery from ``devices/get``, which also says again if it keeps a pool."""
        answer = await self._post("/devices/get", {"device_id": device_id})
        with _reading():
            self._devices.learn(device_id, answer["device"], self._clock())
            return _health(answer["device"])

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Openings and refusals since ``cursor`` (the last event's instant and id)."""
        since, seen = _cursor_parts(cursor)
        start = since or self._clock() - EVENT_LOOKBACK
        body = {
            "since": start.isoformat(),
            "device_id": device_id,
            "event_types": list(_ACCESS_EVENTS),
        }
        answer = await self._post("/events/list", body)
        with _reading():
            events = self._newer(answer, device_id, since, seen)
        if not events:
            return AccessEventPage((), cursor)
        last = events[-1]
        return AccessEventPage(tuple(events), f"{last.occurred_at.isoformat()}|{last.event_id}")

    @staticmethod
    def _newer(
        answer: Mapping[str, Any], device_id: str, since: datetime | None, seen: str
    ) -> list[AccessEvent]:
        events = [
            event
            for raw in answer.get("events", [])
            if raw.get("device_id") == device_id
            for event in _access_events(raw)
            if since is None or (event.occurred_at, event.event_id) > (since, seen)
        ]
        events.sort(key=lambda event: (event.occurred_at, event.event_id))
        return events

    async def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One call; every failure leaves as a ``ProviderError``."""
        async with translated_transport("Seam"):
            response = await self._http.post(
                self._base_url + path, json=dict(body), headers=self._headers
            )
        if response.is_success:
            return _json(response)
        raise seam_error(response)


def seam_error(response: httpx.Response) -> ProviderError:
    """The ``ProviderError`` for a failed Seam answer; Seam's message is not repeated."""
    kind = _error_type(response)
    status = response.status_code
    said = f"Seam answered {status} {kind}".rstrip()
    if status in (401, 403):
        return ProviderAuthFailed(f"Seam refused the API key ({status})")
    if status == 429:
        return RateLimited(said, retry_after=_retry_after(response))
    if status >= 500:
        return ProviderUnavailable(said)
    if kind in _OFFLINE_TYPES:
        return LockOffline(said)
    if kind in _FULL_TYPES:
        return NoSpaceLeft(said)
    if status == 404:
        return CodeNotFound(said) if kind in _CODE_NOT_FOUND_TYPES else UnknownDevice(said)
    if status == 409 or kind.startswith("duplicate"):
        return DuplicateCode(said)
    if status in (400, 422):
        return CodeRefused(said)
    return ProviderError(said)


def parse_seam_webhook(
    headers: Mapping[str, str], body: bytes, secret: str, *, now: datetime | None = None
) -> list[AccessEvent]:
    """The access events in a Seam webhook, after its Svix signature is checked.

    ``now`` judges the signature's timestamp (default: the system's UTC time). A delivery
    that is not an access event (``access_code.set`` ...) yields no event.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        verify_svix_signature(secret, lowered, body, now or datetime.now(UTC))
    except SignatureError as err:
        raise WebhookRefused(f"the Seam webhook signature is refused: {err.message}") from err
    try:
        payload = json.loads(body)
        return _access_events(payload if "event_type" in payload else payload["event"])
    except (ValueError, KeyError, TypeError) as err:
        raise WebhookRefused("the Seam webhook body is not an event") from err


# -- reading Seam's shapes ---------------------------------------------------------------------


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """An answer of the wrong shape is Seam misbehaving: try again later, like a 5xx."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ProviderUnavailable("Seam answered an unexpected shape") from err


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as err:
        raise ProviderUnavailable("Seam answered something that is not JSON") from err
    if not isinstance(answer, dict):
        raise ProviderUnavailable("Seam answered an unexpected shape")
    return answer


def _error_type(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("type", ""))[:80]
    except (ValueError, AttributeError):
        return ""


def _retry_after(response: httpx.Response) -> timedelta | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date_header = response.headers.get("date")
    sent = parsedate_to_datetime(date_header) if date_header else datetime.now(UTC)
    return max(moment - sent, timedelta(0))


def _takes_codes(device: Mapping[str, Any]) -> bool:
    """A device doorcode can give a guest a code on: a chosen PIN, or Seam's offline code."""
    supported = device.get("capabilities_supported") or []
    return "access_code" in supported and (
        not _chosen_pin_refused(device) or _offline_codes(device)
    )


def _chosen_pin_refused(device: Mapping[str, Any]) -> bool:
    rules = (device.get("properties") or {}).get("code_constraints") or []
    return any(r.get("constraint_type") == "cannot_specify_pin_code" for r in rules)


def _offline_codes(device: Mapping[str, Any]) -> bool:
    return device.get("can_program_offline_access_codes") is True


def _online_codes(device: Mapping[str, Any]) -> bool:
    """Seam can put a chosen PIN on it over the network."""
    online = device.get("can_program_online_access_codes", True) is not False
    return online and not _chosen_pin_refused(device)


def _device(device: Mapping[str, Any]) -> Device:
    properties = device.get("properties") or {}
    name = device.get("display_name") or properties.get("name") or device["device_id"]
    return Device(str(device["device_id"]), str(name), _capabilities(device), _health(device))


def _capabilities(device: Mapping[str, Any]) -> LockCapabilities:
    """Seam's ``properties`` as doorcode's capabilities; what Seam does not say keeps defaults."""
    properties = device.get("properties") or {}
    defaults = LockCapabilities()
    lengths = properties.get("supported_code_lengths") or sorted(defaults.code_lengths)
    kinds = {rule.get("constraint_type") for rule in properties.get("code_constraints") or []}
    constraints = CodeConstraints(
        no_zeros="no_zeros" in kinds,
        forbidden_prefixes=frozenset({"12"}) if "cannot_start_with_12" in kinds else frozenset(),
        no_triple_run="no_triple_consecutive_ints" in kinds,
    )
    return LockCapabilities(
        code_lengths=frozenset(int(length) for length in lengths),
        constraints=constraints,
        max_codes=properties.get("max_active_codes_supported"),
        native_scheduling=True,
        online=_online_codes(device),
        offline_codes=_offline_codes(device),
    )


def _health(device: Mapping[str, Any]) -> LockHealth:
    properties = device.get("properties") or {}
    online = properties.get("online")
    level = properties.get("battery_level")
    battery = None if level is None else max(0, min(100, round(float(level) * 100)))
    return LockHealth(online if isinstance(online, bool) else None, battery, None)


def _code(code: Mapping[str, Any]) -> ProviderCode:
    errors = code.get("errors") or []
    state = _STATES.get(str(code.get("status")), CodeState.ACCEPTED)
    error = None
    if errors:
        state, error = CodeState.FAILED, str(errors[0].get("error_code", "error"))[:80]
    return ProviderCode(
        str(code["access_code_id"]),
        str(code.get("name") or ""),
        code.get("code"),
        _instant(code.get("starts_at")),
        _instant(code.get("ends_at")),
        state,
        error,
    )


def _offline_code(raw: Mapping[str, Any], code: ProviderCode) -> VendorOfflineCode:
    """An offline access code Seam computed, or ``ProviderUnavailable`` while it has none."""
    if not code.code or code.window is None:
        raise ProviderUnavailable("Seam has not computed the offline code yet")
    warnings = {str(w.get("warning_code")) for w in raw.get("warnings") or []}
    rules = [_WHOLE_HOURS_RULE]
    if "igloo_algopin_must_be_used_within_24_hours" in warnings:
        rules.append(_USE_WITHIN_24_HOURS_RULE)
    return VendorOfflineCode(code.code, code.window, code.code_id, tuple(rules))


def _whole_hours(window: TimeWindow) -> TimeWindow:
    """The smallest whole-hour window covering ``window`` (offline codes keep hours)."""
    start = window.starts_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = window.ends_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return TimeWindow(start, end if end >= window.ends_at else end + timedelta(hours=1))


def _window_body(window: TimeWindow) -> dict[str, str]:
    return {
        "starts_at": window.starts_at.astimezone(UTC).isoformat(),
        "ends_at": window.ends_at.astimezone(UTC).isoformat(),
    }


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _cursor_parts(cursor: str | None) -> tuple[datetime | None, str]:
    if not cursor:
        return None, ""
    instant, _, event_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(instant), event_id
    except ValueError:
        return None, ""


def _access_events(raw: Mapping[str, Any]) -> list[AccessEvent]:
    """The access event a Seam event is, if it is one."""
    kind = raw.get("event_type")
    if kind not in _ACCESS_EVENTS:
        return []
    opened = kind == "lock.unlocked"
    occurred = _instant(raw.get("occurred_at") or raw.get("created_at"))
    if occurred is None:
        raise ValueError("an event without an instant")
    method = _METHODS.get(str(raw.get("method")), AccessMethod.UNKNOWN)
    if not opened and method is AccessMethod.UNKNOWN:
        method = AccessMethod.KEYPAD
    return [
        AccessEvent(
            str(raw["event_id"]),
            str(raw["device_id"]),
            occurred,
            AccessOutcome.OPENED if opened else AccessOutcome.REFUSED,
            method,
            raw.get("access_code_id"),
            None if opened else RefusalReason.OTHER,
        )
    ]
