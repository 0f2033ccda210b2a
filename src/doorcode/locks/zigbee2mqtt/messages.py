"""zigbee2mqtt's payloads, read into plain values: devices, availability, lock state, logs.

Pure: bytes in, values out, nothing sent. Every reader is lenient about what it does not need
(zigbee2mqtt adds fields between releases) and strict about what it does: a payload that is
not what the topic promises reads as "nothing said", never as an empty lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason

__all__ = [
    "ActionReport",
    "DeviceEntry",
    "FailureReport",
    "SlotReport",
    "StateReport",
    "opening_of",
    "read_availability",
    "read_devices",
    "read_failure",
    "read_state",
]


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """A lock in ``bridge/devices``: a device whose exposes include ``pin_code``."""

    ieee_address: str
    friendly_name: str
    model: str
    vendor: str
    description: str
    battery: bool
    """Battery powered: zigbee2mqtt marks it offline only after 25 h of silence by default."""


@dataclass(frozen=True, slots=True)
class SlotReport:
    """One entry of a state message's ``users``: a zigbee user id and what it holds."""

    user: int
    occupied: bool
    pin: str | None


@dataclass(frozen=True, slots=True)
class ActionReport:
    """The transient ``action`` of a state message, with its user and source."""

    action: str
    user: int | None
    source: str | None


@dataclass(frozen=True, slots=True)
class StateReport:
    """What one state message of a lock says."""

    slots: tuple[SlotReport, ...] = ()
    action: ActionReport | None = None
    battery: int | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class FailureReport:
    """A ``bridge/logging`` error about a publish to a device that failed."""

    device: str
    duplicate: bool
    full: bool


def read_devices(payload: bytes) -> list[DeviceEntry] | None:
    """The locks of a retained ``bridge/devices``; None when it is not a device list."""
    devices = _json(payload)
    if not isinstance(devices, list):
        return None
    return [entry for entry in map(_lock_entry, devices) if entry is not None]


def read_availability(payload: bytes) -> bool | None:
    """``{"state": "online"}`` (zigbee2mqtt 2) or the bare word (1.x); None if neither."""
    text = payload.decode("utf-8", "replace").strip()
    data = _json(payload)
    if isinstance(data, dict):
        text = str(data.get("state", ""))
    return {"online": True, "offline": False}.get(text)


def read_state(payload: bytes) -> StateReport | None:
    """A lock's state message: reported slots, the transient action, battery, last seen."""
    data = _json(payload)
    if not isinstance(data, dict):
        return None
    users = data.get("users")
    slots = tuple(_slots(users)) if isinstance(users, dict) else ()
    return StateReport(slots, _action(data), _int(data.get("battery")), _instant(data))


def read_failure(payload: bytes) -> FailureReport | None:
    """An error zigbee2mqtt logged about a ``set`` to a device (``Publish 'set' ... failed``)."""
    data = _json(payload)
    if not isinstance(data, dict) or data.get("level") != "error":
        return None
    message = str(data.get("message", ""))
    if not message.startswith("Publish 'set'") or " to '" not in message:
        return None
    device = message.split(" to '", 1)[1].split("'", 1)[0]
    upper = message.upper()
    return FailureReport(device, "DUPLICATE" in upper, "MEMORY_FULL" in upper or "FULL" in upper)


_OPENINGS = {"unlock", "key_unlock", "manual_unlock", "schedule_unlock", "auto_unlock"}
_REFUSALS = {
    "unlock_failure_invalid_pin_or_id": RefusalReason.UNKNOWN_CODE,
    "lock_failure_invalid_pin_or_id": RefusalReason.UNKNOWN_CODE,
    "unlock_failure_invalid_schedule": RefusalReason.OUTSIDE_WINDOW,
    "lock_failure_invalid_schedule": RefusalReason.OUTSIDE_WINDOW,
}
_METHODS = {
    "keypad": AccessMethod.KEYPAD,
    "rf": AccessMethod.APP,
    "manual": AccessMethod.MANUAL,
    "rfid": AccessMethod.KEY,
}


def opening_of(
    action: ActionReport,
) -> tuple[AccessOutcome, AccessMethod, RefusalReason | None] | None:
    """An opening or refused attempt, or None for actions that are neither (lock, programming)."""
    method = _METHODS.get(action.source or "", AccessMethod.UNKNOWN)
    if action.action in _OPENINGS:
        if action.action == "manual_unlock":
            method = AccessMethod.MANUAL
        elif action.action == "key_unlock":
            method = AccessMethod.KEY
        return AccessOutcome.OPENED, method, None
    reason = _REFUSALS.get(action.action)
    if reason is not None:
        return AccessOutcome.REFUSED, method, reason
    return None


def _lock_entry(device: Any) -> DeviceEntry | None:
    if not isinstance(device, dict) or device.get("type") == "Coordinator":
        return None
    definition = device.get("definition")
    if not isinstance(definition, dict) or not _has_pin_code(definition.get("exposes")):
        return None
    ieee, name = device.get("ieee_address"), device.get("friendly_name")
    if not isinstance(ieee, str) or not isinstance(name, str):
        return None
    return DeviceEntry(
        ieee,
        name,
        str(definition.get("model", "")),
        str(definition.get("vendor", "")),
        str(definition.get("description", "")),
        device.get("power_source") == "Battery",
    )


def _has_pin_code(exposes: Any) -> bool:
    if not isinstance(exposes, list):
        return False
    return any(
        isinstance(expose, dict)
        and (
            "pin_code" in (expose.get("name"), expose.get("property"))
            or _has_pin_code(expose.get("features"))
        )
        for expose in exposes
    )


def _slots(users: Mapping[str, Any]) -> Iterator[SlotReport]:
    for key, entry in users.items():
        if not key.isdigit() or not isinstance(entry, dict):
            continue
        status = entry.get("status")
        pin = entry.get("pin_code")
        occupied = status in ("enabled", "disabled")
        yield SlotReport(
            int(key), occupied, str(pin) if occupied and pin not in (None, "") else None
        )


def _action(data: Mapping[str, Any]) -> ActionReport | None:
    action = data.get("action")
    if not isinstance(action, str) or not action:
        return None
    source = data.get("action_source_name")
    return ActionReport(
        action, _int(data.get("action_user")), source if isinstance(source, str) else None
    )


def _instant(data: Mapping[str, Any]) -> datetime | None:
    """``last_seen`` as zigbee2mqtt writes it: ISO 8601 or epoch milliseconds."""
    seen = data.get("last_seen")
    if isinstance(seen, int | float) and not isinstance(seen, bool):
        return datetime.fromtimestamp(seen / 1000, UTC)
    if isinstance(seen, str):
        try:
            parsed = datetime.fromisoformat(seen)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
