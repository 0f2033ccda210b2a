"""Nuki smartlock log entries as doorcode's access events, polled or pushed by webhook.

Decentral webhooks are signed: ``X-Nuki-Signature-SHA256`` is the HMAC-SHA256 of the raw body
keyed with the secret Nuki gave when the webhook was registered. ``parse_nuki_webhook`` checks
it before reading anything. Only ``DEVICE_LOGS`` deliveries carry access events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from doorcode.locks.access_events import AccessEvent, AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.errors import ProviderError, WebhookRefused
from doorcode.locks.nuki.client import NukiLogEntry, log_entry_from_json

__all__ = ["SIGNATURE_HEADER", "access_event", "parse_nuki_webhook"]

SIGNATURE_HEADER = "X-Nuki-Signature-SHA256"
_OPENING_ACTIONS = frozenset({1, 3, 5})
"""Unlock, unlatch, lock 'n' go (which unlocks first): the door can open."""
_METHODS: Mapping[int, AccessMethod] = {
    0: AccessMethod.APP,
    1: AccessMethod.MANUAL,
    2: AccessMethod.MANUAL,
    4: AccessMethod.APP,
    5: AccessMethod.APP,
    255: AccessMethod.KEYPAD,
}
"""Nuki's ``trigger``: system (app over Bluetooth), manual, button, web, app, keypad."""
_SUCCESS, _WRONG_CODE = 0, 224


def access_event(entry: NukiLogEntry) -> AccessEvent | None:
    """The access event a log entry stands for, or None (locking is not an access event)."""
    if entry.action not in _OPENING_ACTIONS:
        return None
    opened = entry.state == _SUCCESS
    reason = RefusalReason.UNKNOWN_CODE if entry.state == _WRONG_CODE else RefusalReason.OTHER
    return AccessEvent(
        event_id=entry.log_id,
        device_id=str(entry.smartlock_id),
        occurred_at=entry.at,
        outcome=AccessOutcome.OPENED if opened else AccessOutcome.REFUSED,
        method=_METHODS.get(entry.trigger, AccessMethod.UNKNOWN),
        code_ref=entry.auth_id,
        reason=None if opened else reason,
    )


def parse_nuki_webhook(headers: Mapping[str, str], body: bytes, secret: str) -> list[AccessEvent]:
    """The access events of one decentral webhook delivery, signature checked first."""
    presented = _header(headers, SIGNATURE_HEADER)
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if presented is None or not hmac.compare_digest(presented.lower(), expected):
        raise WebhookRefused("the Nuki webhook's signature is missing or wrong")
    try:
        delivery = json.loads(body)
        if delivery.get("feature") != "DEVICE_LOGS":
            return []
        entry = log_entry_from_json(delivery["smartlockLog"])
    except (KeyError, ValueError, TypeError, AttributeError, ProviderError) as err:
        raise WebhookRefused("the Nuki webhook's body cannot be read") from err
    event = access_event(entry)
    return [] if event is None else [event]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
