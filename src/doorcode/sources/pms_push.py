"""Pushing codes back to the PMS: an outbox over the audit log, signed POSTs, retries.

A source with a push URL wants to hear about the codes of the bookings it sent, so it can
put them in its own guest messages. Rather than hooking into every place a code changes,
the pusher reads the audit log, whoever wrote it:

* ``collect_pushes`` reads new events of the kinds in ``TRIGGERS`` (``GrantCodesSet``, which
  lock sync records once every lock holds the grant's current version, ``GrantCodeChanged``
  and ``GrantRevoked``) and queues one push per event for grants whose reservation came
  from a source with a push URL. Its position in the log only moves past events older than
  ``SETTLE``: an event id taken by a transaction that commits late (PostgreSQL hands out ids
  before commit) is still read. Re-reading is harmless, a push is unique per event.
* ``send_due_pushes`` POSTs each due push, signed with the source's push secret like an
  inbound generic webhook (``X-Doorcode-Timestamp``, ``-Delivery``, ``-Signature``). The
  body is built at send time from the grant as it is then, so a retry never sends a stale
  code. 2xx is delivered; 5xx, 408, 429 and network errors retry with exponential backoff
  (30 s doubling to 1 h, ten attempts); any other answer fails at once. The code is in
  the body and nowhere else: not in the push record, its error, or a log line.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from doorcode.services.audit import record_event
from doorcode.services.caller import Caller, Role
from doorcode.sources.webhook_signature import signed_headers
from doorcode.store.models import Event, Grant, Lock, PushDelivery, Reservation
from doorcode.store.source_repositories import PushFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "TRIGGERS",
    "PushStatus",
    "collect_pushes",
    "list_pushes",
    "push_payload",
    "send_due_pushes",
]

logger = logging.getLogger(__name__)

CURSOR = "pms_push"
TRIGGERS = {
    "GrantCodesSet": "codes_set",
    "GrantCodeChanged": "code_changed",
    "GrantRevoked": "revoked",
}
SETTLE = timedelta(minutes=1)
BATCH = 200
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 10
TIMEOUT = httpx.Timeout(10.0)
RETRYABLE = frozenset({408, 429})


class PushStatus(enum.StrEnum):
    """Where a code's push back to its PMS stands; the API and the CLI list and filter by it."""

    PENDING = "pending"
    """Waiting for its first or next attempt."""
    DELIVERED = "delivered"
    """The PMS answered 2xx."""
    FAILED = "failed"
    """Given up: an answer that no retry changes, the attempts spent, or its source gone."""


def collect_pushes(uow: UnitOfWork) -> int:
    """Queue a push for each new code event of a grant whose source wants them."""
    with uow:
        position = uow.outbox.position(CURSOR)
        events = uow.outbox.events_after(position, TRIGGERS, BATCH)
        known = uow.pushes.known_events([event.id for event in events])
        queued = 0
        for event in events:
            push = _push_for(uow, event, known)
            if push is not None:
                uow.pushes.add(push)
                queued += 1
        uow.outbox.advance(CURSOR, _settled(position, events, uow.now))
        uow.commit()
        return queued


def send_due_pushes(uow: UnitOfWork, client: httpx.Client) -> int:
    """POST every push that is due; returns how many were attempted."""
    with uow:
        due = [push.id for push in uow.pushes.due(uow.now, BATCH)]
    for push_id in due:
        _send(uow, client, push_id)
    return len(due)


def list_pushes(uow: UnitOfWork, caller: Caller, which: PushFilter) -> list[PushDelivery]:
    """The organisation's pushes, newest first."""
    with uow:
        return uow.pushes.search(caller.organisation_id, which)


def push_payload(
    push: PushDelivery, reservation: Reservation, grant: Grant, code: str | None, locks: list[Lock]
) -> dict[str, Any]:
    """What the PMS receives: the grant as it is now, and which event asked for it."""
    return {
        "version": 1,
        "event": TRIGGERS[push.event_kind],
        "event_id": push.event_id,
        "push_id": push.id,
        "reservation_id": reservation.id,
        "reservation_external_id": reservation.external_id,
        "grant_id": grant.id,
        "grant_version": grant.version,
        "revoked": grant.revoked_at is not None,
        "code": code,
        "valid_from": grant.starts_at.isoformat(),
        "valid_to": grant.ends_at.isoformat(),
        "locks": [{"id": lock.id, "name": lock.name} for lock in locks],
    }


def _push_for(
    uow: UnitOfWork, event: Event, known: Collection[tuple[str, int]]
) -> PushDelivery | None:
    if event.subject_type != "grant":
        return None
    org = event.organisation_id
    grant = uow.grants.get(org, event.subject_id)
    if grant is None or grant.reservation_id is None:
        return None
    reservation = uow.reservations.get(org, grant.reservation_id)
    source = uow.sources.by_name(org, reservation.source) if reservation else None
    if source is None or source.push_url_token is None or (source.id, event.id) in known:
        return None
    return PushDelivery(
        organisation_id=org,
        source_id=source.id,
        event_id=event.id,
        event_kind=event.kind,
        grant_id=grant.id,
        reservation_id=grant.reservation_id,
        status=PushStatus.PENDING,
        attempts=0,
        next_attempt_at=uow.now,
        created_at=uow.now,
    )


def _settled(position: int, events: list[Event], now: datetime) -> int:
    """The last event id before which nothing can still be committing."""
    for event in events:
        if event.occurred_at > now - SETTLE:
            break
        position = event.id
    return position


@dataclass(frozen=True, slots=True)
class _Request:
    """A push ready to send; every part of it is secret (URL, signature, code)."""

    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)


def _send(uow: UnitOfWork, client: httpx.Client, push_id: str) -> None:
    request = _prepare(uow, push_id)
    if request is None:
        return
    try:
        response = client.post(request.url, content=request.body, headers=request.headers)
        status, error = response.status_code, "" if response.is_success else _http_error(response)
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        status, error = None, f"{type(err).__name__}: the push URL could not be reached"
    _settle(uow, push_id, status, error)


def _prepare(uow: UnitOfWork, push_id: str) -> _Request | None:
    with uow:
        push = uow.pushes.by_id(push_id)
        if push is None or push.status != PushStatus.PENDING:
            return None
        source = uow.sources.by_id(push.source_id)
        grant = uow.grants.get(push.organisation_id, push.grant_id)
        reservation = uow.reservations.get(push.organisation_id, push.reservation_id)
        if source is None or not source.push_url_token or grant is None or reservation is None:
            push.status = PushStatus.FAILED
            push.last_error = "the source, grant or push URL is gone"
            uow.commit()
            return None
        code = None if grant.revoked_at is not None else uow.grants.code_of(grant)
        locks = [lock_code.lock for lock_code in grant.lock_codes]
        payload = push_payload(push, reservation, grant, code, locks)
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = uow.cipher.decrypt(source.push_secret_token or "")
        headers = signed_headers(secret, body, uow.now, push.id)
        headers["Content-Type"] = "application/json"
        return _Request(uow.cipher.decrypt(source.push_url_token), body, headers)


def _settle(uow: UnitOfWork, push_id: str, status: int | None, error: str) -> None:
    with uow:
        push = uow.pushes.by_id(push_id)
        if push is None:
            return
        push.attempts += 1
        push.last_status_code = status
        push.last_error = error
        if status is not None and 200 <= status < 300:
            push.status, push.delivered_at = PushStatus.DELIVERED, uow.now
            push.next_attempt_at = None
            _audit(uow, push)
        elif _retryable(status) and push.attempts < MAX_ATTEMPTS:
            push.next_attempt_at = uow.now + _backoff(push.attempts)
        else:
            push.status, push.next_attempt_at = PushStatus.FAILED, None
        uow.commit()
    logger.info(
        "push %s to source %s: %s after %d attempt(s) %s",
        push.id,
        push.source_id,
        push.status,
        push.attempts,
        error,
    )


def _audit(uow: UnitOfWork, push: PushDelivery) -> None:
    """Sending a code out of doorcode is a disclosure, so it is audited like a reveal."""
    caller = Caller(push.organisation_id, f"push:{push.source_id}", Role.MANAGER)
    record_event(
        uow,
        caller,
        ("grant", push.grant_id),
        "GrantCodePushed",
        "sent to the PMS",
        after={"push_id": push.id, "source_id": push.source_id, "event_id": push.event_id},
    )


def _retryable(status: int | None) -> bool:
    return status is None or status >= 500 or status in RETRYABLE


def _backoff(attempts: int) -> timedelta:
    delay: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(delay, LAST_RETRY)


def _http_error(response: httpx.Response) -> str:
    """The status only: a receiver's error body may echo the code back."""
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()
