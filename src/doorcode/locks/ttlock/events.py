"""TTLock lock records as doorcode's access events, polled or pushed to the callback URL.

TTLock signs nothing it sends: the callback URL registered for the application carries an
unguessable token, and ``parse_ttlock_webhook`` refuses a delivery whose token is not the
account's secret before reading a byte of it. The form's ``records`` (a JSON string) hold the
typed PIN in ``keyboardPwd``; it is dropped here and never leaves this module.

One event's id is built from what both routes carry (the lock's own instant, the record type
and its success), so a record received by callback and polled later is recognisably the same.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from urllib.parse import parse_qs

from doorcode.locks.access_events import AccessEvent, AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.errors import ProviderError, WebhookRefused
from doorcode.locks.ttlock.client import TtlockRecord, record_from_json

__all__ = ["access_event", "parse_ttlock_webhook"]

_KEYPAD, _LOCKED_OUT = 4, 48
_RECORDS = "1"
"""``notifyType`` of a lock-records callback; others (4: a sleeping Wi-Fi lock refused a
queued write) carry no access event, and the next listing shows that code as failed."""
_METHODS: Mapping[int, AccessMethod] = {
    1: AccessMethod.APP,
    4: AccessMethod.KEYPAD,
    7: AccessMethod.UNKNOWN,
    8: AccessMethod.UNKNOWN,
    10: AccessMethod.KEY,
    12: AccessMethod.APP,
    32: AccessMethod.MANUAL,
    48: AccessMethod.KEYPAD,
    55: AccessMethod.UNKNOWN,
}
"""Cloud record types that are an attempt to open: app, passcode, card, fingerprint, key,
gateway, from inside, lockout after wrong codes, remote control. Others (locking, door sensor,
tamper alarms) are not access events."""
_OUTSIDE_WINDOW = 11
"""``recordTypeFromLock`` of a passcode typed outside its validity period."""


def access_event(record: TtlockRecord) -> AccessEvent | None:
    """The access event a record stands for, or None for records that are not one."""
    method = _METHODS.get(record.record_type)
    if method is None:
        return None
    opened = record.success and record.record_type != _LOCKED_OUT
    stamp = int(record.lock_date.timestamp() * 1000)
    return AccessEvent(
        event_id=f"{stamp}:{record.record_type}:{int(record.success)}",
        device_id=str(record.lock_id),
        occurred_at=record.lock_date,
        outcome=AccessOutcome.OPENED if opened else AccessOutcome.REFUSED,
        method=method,
        code_ref=(record.username or None) if record.record_type == _KEYPAD else None,
        reason=None if opened else _reason(record),
    )


def _reason(record: TtlockRecord) -> RefusalReason:
    if record.record_type == _LOCKED_OUT:
        return RefusalReason.LOCKED_OUT
    if record.record_type != _KEYPAD:
        return RefusalReason.OTHER
    if record.record_type_from_lock == _OUTSIDE_WINDOW:
        return RefusalReason.OUTSIDE_WINDOW
    return RefusalReason.UNKNOWN_CODE


def parse_ttlock_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    presented_token: str | None = None,
) -> list[AccessEvent]:
    """The access events of one callback, after checking the URL's token against ``secret``.

    TTLock cannot sign, so the caller passes the token from the callback URL it received
    (``presented_token``); a missing or wrong one is ``WebhookRefused``. ``headers`` is kept
    for the shape every vendor's parser shares.
    """
    if not presented_token or not hmac.compare_digest(presented_token, secret):
        raise WebhookRefused("the TTLock callback's token is missing or wrong")
    try:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        if form.get("notifyType", "1") != _RECORDS:
            return []
        lock_id = int(form["lockId"])
        rows = json.loads(form.get("records", "[]"))
        records = [record_from_json(row, lock_id) for row in rows]
    except (KeyError, ValueError, TypeError, UnicodeDecodeError, ProviderError) as err:
        raise WebhookRefused("the TTLock callback's body cannot be read") from err
    events = (access_event(record) for record in records)
    return [event for event in events if event is not None]
