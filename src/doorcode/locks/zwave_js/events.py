"""What the server pushed, as doorcode's access events: Notification CC and Door Lock CC.

An Access Control notification says how the door was opened (keypad, by hand, over the
radio) and, for the keypad, which user-code slot was typed: that slot number is the event's
``code_ref``, which the ingest maps to the grant holding the slot. A Door Lock mode change to
"unsecured" with no such notification just before it is an opening of unknown method.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from doorcode.locks.access_events import (
    AccessEvent,
    AccessMethod,
    AccessOutcome,
    RefusalReason,
    heard_event_id,
)
from doorcode.locks.zwave_js.link import HeardEvent

__all__ = ["access_events_of"]

ACCESS_CONTROL = 0x06
"""Notification type "Access Control"."""
_OPENINGS = {
    0x02: AccessMethod.MANUAL,  # Manual unlock operation
    0x04: AccessMethod.APP,  # RF unlock operation (a controller, an app)
    0x06: AccessMethod.KEYPAD,  # Keypad unlock operation (with the user id)
}
_KEYPAD_DISABLED = 0x10
"""Keypad temporarily disabled: too many wrong codes."""
_UNSECURED = 0x00
"""Door Lock mode "Unsecured"."""
SAME_OPENING = timedelta(seconds=5)
"""A lock-mode change this soon after an opening notification is that same opening."""


def access_events_of(device_id: str, heard: Iterable[HeardEvent]) -> tuple[AccessEvent, ...]:
    """The openings and refusals among ``heard`` (oldest first), each once."""
    events: list[AccessEvent] = []
    for item in heard:
        event = _event(device_id, item)
        if event is None or _repeats(events, event, item):
            continue
        events.append(event)
    return tuple(events)


def _event(device_id: str, item: HeardEvent) -> AccessEvent | None:
    # Every worker process hears the push: the id comes from what the lock sent, not from
    # which process heard it (the server gives no stamp of its own).
    event_id = heard_event_id(device_id, {"kind": item.kind, "args": item.args}, item.heard_at)
    if item.kind == "door_lock":
        if item.args.get("newValue") != _UNSECURED or item.args.get("prevValue") == _UNSECURED:
            return None
        return AccessEvent(
            event_id, device_id, item.heard_at, AccessOutcome.OPENED, AccessMethod.UNKNOWN, None
        )
    if item.args.get("type") != ACCESS_CONTROL:
        return None
    kind = item.args.get("event")
    if kind == _KEYPAD_DISABLED:
        return AccessEvent(
            event_id,
            device_id,
            item.heard_at,
            AccessOutcome.REFUSED,
            AccessMethod.KEYPAD,
            None,
            RefusalReason.LOCKED_OUT,
        )
    method = _OPENINGS.get(kind) if isinstance(kind, int) else None
    if method is None:
        return None
    user = (item.args.get("parameters") or {}).get("userId")
    code_ref = str(user) if method is AccessMethod.KEYPAD and isinstance(user, int) else None
    return AccessEvent(event_id, device_id, item.heard_at, AccessOutcome.OPENED, method, code_ref)


def _repeats(events: list[AccessEvent], event: AccessEvent, item: HeardEvent) -> bool:
    """A mode change that follows an opening notification is not a second opening."""
    if item.kind != "door_lock" or not events:
        return False
    last = events[-1]
    return (
        last.outcome is AccessOutcome.OPENED
        and event.occurred_at - last.occurred_at <= SAME_OPENING
    )
