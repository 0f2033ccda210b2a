"""Access events a lock back-end pushes to one provider account's webhook, checked at the edge.

An account that can push (Seam, Nuki, TTLock) is given the URL ``/webhooks/locks/{account id}``
and a ``webhook_secret`` stored, encrypted, with its credentials (``doorcode provider connect``).
Seam signs with Svix and Nuki with ``X-Nuki-Signature-SHA256``; TTLock signs nothing, so its
callback URL carries the secret itself (``?token=<webhook secret>``). A delivery whose signature
or token does not check out is refused before anything in it is believed, and stores nothing.
An unknown account, one without a webhook secret, and a kind that cannot push all answer alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from doorcode.locks.access_events import AccessEvent
from doorcode.locks.nuki.events import parse_nuki_webhook
from doorcode.locks.seam import parse_seam_webhook
from doorcode.locks.ttlock.events import parse_ttlock_webhook
from doorcode.services.access_events import AccessPolicy, IngestReport, ingest_access_events
from doorcode.services.errors import NotFound
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["LockWebhook", "receive_lock_webhook"]

Parser = Callable[[Mapping[str, str], bytes, str], list[AccessEvent]]


class LockWebhook:
    """One delivery as it came: its headers, its exact bytes, and the URL's token if any."""

    def __init__(self, headers: Mapping[str, str], body: bytes, token: str | None) -> None:
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body
        self.token = token

    def __repr__(self) -> str:
        return f"LockWebhook({len(self.body)} bytes)"


def receive_lock_webhook(
    uow: UnitOfWork, account_id: str, delivery: LockWebhook, policy: AccessPolicy
) -> IngestReport:
    """Check the delivery against the account's webhook secret, then store its events."""
    with uow:
        rows = uow.provider_accounts.by_ids({account_id})
        credentials = uow.provider_accounts.credentials_of(rows[0]) if rows else {}
        kind, now = (rows[0].kind if rows else ""), uow.now
    secret = credentials.get("webhook_secret")
    parser = _parser(kind, delivery.token, now)
    if secret is None or parser is None:
        raise NotFound("provider account", account_id)
    events = parser(delivery.headers, delivery.body, secret)  # WebhookRefused on a bad one
    return ingest_access_events(uow, kind, events, policy)


def _parser(kind: str, token: str | None, now: datetime) -> Parser | None:
    """The kind's parser, given what it needs besides the delivery (the clock, the token)."""
    parsers: dict[str, Parser] = {
        "seam": partial(parse_seam_webhook, now=now),
        "nuki": parse_nuki_webhook,
        "ttlock": partial(parse_ttlock_webhook, presented_token=token),
    }
    return parsers.get(kind)
