"""Webhook sources: the PMSs (or scripts) allowed to push reservations into an organisation.

Each source has its own URL, ``/webhooks/reservations/<source id>``, and its own secret, shown
once when the source is added: a generic source signs with it (doorcode's HMAC scheme), a
Hostaway source sends it as the basic-auth password, and a Guesty source brings Guesty's own
Svix signing secret instead. A source may also have a push URL: doorcode then POSTs each
guest's code back to it, signed with a second secret (see ``pms_push``).
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from doorcode.domain.web_addresses import is_url
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.store.models import Source
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "IssuedSource",
    "SourceKind",
    "SourceSettings",
    "add_source",
    "find_source",
    "is_web_url",
    "list_sources",
    "mask_url",
]

SUBJECT = "source"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SourceKind(enum.StrEnum):
    """How a source's webhooks are shaped and authenticated."""

    GENERIC = "generic"
    HOSTAWAY = "hostaway"
    GUESTY = "guesty"


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """A source to add; ``signing_secret`` is required for Guesty and refused otherwise."""

    name: str
    kind: SourceKind = SourceKind.GENERIC
    push_url: str | None = None
    signing_secret: str | None = None

    def __repr__(self) -> str:
        return f"SourceSettings(name={self.name!r}, kind={self.kind.value!r}, secrets=***)"


@dataclass(frozen=True, slots=True)
class IssuedSource:
    """A new source and its secrets, which are not shown again."""

    source: Source
    secret: str
    push_secret: str | None

    def __repr__(self) -> str:
        return f"IssuedSource(source={self.source.id!r}, secrets=***)"


def add_source(uow: UnitOfWork, caller: Caller, settings: SourceSettings) -> IssuedSource:
    """Add a webhook source; only owners handle secrets."""
    caller.require_owner()
    _validate(settings)
    secret = settings.signing_secret or _new_secret("dcwh")
    push_secret = _new_secret("dcps") if settings.push_url else None
    with uow:
        if uow.sources.by_name(caller.organisation_id, settings.name) is not None:
            raise AlreadyExists(f"a source named {settings.name!r} exists already")
        source = Source(
            organisation_id=caller.organisation_id,
            name=settings.name,
            kind=settings.kind.value,
            secret_token=uow.cipher.encrypt(secret),
            push_url_token=uow.cipher.encrypt(settings.push_url) if settings.push_url else None,
            push_url_hint=mask_url(settings.push_url) if settings.push_url else None,
            push_secret_token=uow.cipher.encrypt(push_secret) if push_secret else None,
            created_at=uow.now,
        )
        uow.sources.add(source)
        uow.flush()
        record_event(uow, caller, (SUBJECT, source.id), "SourceAdded", after=_snapshot(source))
        uow.commit()
        return IssuedSource(source, secret, push_secret)


def list_sources(uow: UnitOfWork, caller: Caller) -> list[Source]:
    """The organisation's sources (never their secrets)."""
    with uow:
        return uow.sources.all(caller.organisation_id)


def find_source(uow: UnitOfWork, caller: Caller, reference: str) -> Source:
    """A source by id or name."""
    with uow:
        org = caller.organisation_id
        source = uow.sources.get(org, reference) or uow.sources.by_name(org, reference)
        if source is None:
            raise NotFound("source", reference)
        return source


def mask_url(url: str) -> str:
    """A URL to show in listings and logs: scheme, host and path start, never the query.

    Calendar and webhook URLs often carry their secret in the query (Airbnb's ``?s=``) or in
    the path, so the hint keeps only enough to recognise which one it is.
    """
    parts = urlsplit(url)
    path = parts.path if len(parts.path) <= 24 else parts.path[:24] + "…"
    hidden = "?…" if parts.query else ""
    return f"{parts.scheme}://{_host(parts)}{path}{hidden}"


def _host(parts: SplitResult) -> str:
    """Host and port as written (a feed on :8443 is another feed), never the credentials."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host (and a possible port)."""
    return is_url(url, ("http", "https"))


def _validate(settings: SourceSettings) -> None:
    if not NAME.match(settings.name):
        raise InvalidRequest("a source name is 1–64 letters, digits, dots, dashes or underscores")
    if settings.push_url is not None and not is_web_url(settings.push_url):
        raise InvalidRequest("the push URL must be an http or https URL")
    if settings.kind is SourceKind.GUESTY and not settings.signing_secret:
        raise InvalidRequest(
            "Guesty signs with its own secret: give the whsec_... value that Guesty's "
            "GET /v1/webhooks-v2/secret returns"
        )
    if settings.kind is not SourceKind.GUESTY and settings.signing_secret:
        raise InvalidRequest("only Guesty sources bring their own signing secret")


def _new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _snapshot(source: Source) -> dict[str, str | None]:
    """What the audit log keeps of a source: never a secret or a full URL."""
    return {"name": source.name, "kind": source.kind, "push_url": source.push_url_hint}
