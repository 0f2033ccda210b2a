"""Provider accounts: connecting an organisation's lock back-ends, listing and removing them.

Only owners connect and remove accounts (they hold secrets); credentials are encrypted by the
repository, never returned, never written to an event or a log line. Connecting again with a
label that exists (same kind) replaces the credentials: that is how an operator reconnects an
account whose credentials the back-end refused, and its locks start again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from doorcode.domain.web_addresses import is_url
from doorcode.locks.base import ProviderAccount
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.store.models import ProviderAccountRow
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "ACCOUNT_REFUSED",
    "AccountRequest",
    "AccountSummary",
    "account_for_provider",
    "account_request",
    "connect_account",
    "find_account",
    "list_accounts",
    "refuse_account",
    "remove_account",
    "settings_of",
]

SUBJECT = "provider_account"
ACCOUNT_REFUSED = "ProviderAccountRefused"
"""The alert raised when a back-end refuses an account's credentials."""
_MAX_LABEL = 200


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """What an owner gives to connect an account; ``needed`` are the kind's credential names."""

    kind: str
    label: str
    credentials: Mapping[str, str]
    options: Mapping[str, str]
    needed: Collection[str]
    optional: Collection[str] = ()
    allowed_options: Collection[str] = ("base_url",)

    def __repr__(self) -> str:
        return f"AccountRequest({self.kind!r}, {self.label!r}, credentials=***)"


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """An account as operators see it: no credential, only their names."""

    id: str
    kind: str
    label: str
    credential_names: tuple[str, ...]
    options: dict[str, str]
    locks: int
    refused_reason: str | None
    imported_at: str | None


def account_request(
    providers: ProviderRegistry,
    kind: str,
    label: str,
    credentials: Mapping[str, str],
    options: Mapping[str, str],
) -> AccountRequest:
    """A request for ``kind``, naming the credentials its back-end needs (or a clear refusal)."""
    if kind not in providers:
        raise InvalidRequest(
            f"unknown kind {kind!r}; this deployment has {', '.join(providers.kinds)}"
        )
    backend = providers.backend(kind)
    return AccountRequest(
        kind,
        label,
        credentials,
        options,
        backend.credential_names,
        backend.optional_credential_names,
        backend.option_names,
    )


def connect_account(uow: UnitOfWork, caller: Caller, request: AccountRequest) -> ProviderAccountRow:
    """Store a new account, or new credentials for the account with that label and kind."""
    caller.require_owner()
    _check(request)
    with uow:
        org = caller.organisation_id
        existing = uow.provider_accounts.find(org, request.label.strip())
        if existing is not None and existing.kind != request.kind:
            raise AlreadyExists(
                f"the label {request.label!r} is taken by a {existing.kind} account"
            )
        account = existing or ProviderAccountRow(
            organisation_id=org,
            kind=request.kind,
            label=request.label.strip(),
            created_at=uow.now,
        )
        uow.provider_accounts.set_credentials(account, request.credentials)
        account.options = dict(request.options)
        account.updated_at = uow.now
        account.refused_at = account.refused_reason = None
        if existing is None:
            uow.provider_accounts.add(account)
        uow.flush()
        clear_alert(uow, org, ACCOUNT_REFUSED, (SUBJECT, account.id))
        uow.touch_locks({lock.id for lock in uow.provider_accounts.locks_of(account.id)})
        after = {"kind": account.kind, "label": account.label, "options": account.options}
        kind = "ProviderAccountReconnected" if existing is not None else "ProviderAccountConnected"
        record_event(uow, caller, (SUBJECT, account.id), kind, account.label, after=after)
        uow.commit()
        return account


def list_accounts(uow: UnitOfWork, caller: Caller) -> list[AccountSummary]:
    """The organisation's accounts with how many locks each holds; never a credential."""
    with uow:
        org = caller.organisation_id
        counts = uow.provider_accounts.lock_counts(org)
        return [
            AccountSummary(
                account.id,
                account.kind,
                account.label,
                tuple(sorted(uow.provider_accounts.credentials_of(account))),
                dict(account.options),
                counts.get(account.id, 0),
                account.refused_reason,
                account.imported_at.isoformat() if account.imported_at else None,
            )
            for account in uow.provider_accounts.all(org)
        ]


def find_account(uow: UnitOfWork, caller: Caller, reference: str) -> ProviderAccount:
    """The account by id or label, decrypted for its provider (services only, never shown)."""
    with uow:
        account = uow.provider_accounts.find(caller.organisation_id, reference)
        if account is None:
            raise NotFound("provider account", reference)
        return _settings(uow, account)


def remove_account(uow: UnitOfWork, caller: Caller, reference: str) -> None:
    """Forget an account and its credentials; refused while locks still belong to it."""
    caller.require_owner()
    with uow:
        account = uow.provider_accounts.find(caller.organisation_id, reference)
        if account is None:
            raise NotFound("provider account", reference)
        locks = uow.provider_accounts.locks_of(account.id)
        if locks:
            raise InvalidRequest(
                f"{len(locks)} lock(s) belong to {account.label!r}; remove them first"
            )
        clear_alert(uow, account.organisation_id, ACCOUNT_REFUSED, (SUBJECT, account.id))
        record_event(
            uow,
            caller,
            (SUBJECT, account.id),
            "ProviderAccountRemoved",
            account.label,
            before={"kind": account.kind, "label": account.label},
        )
        uow.session.delete(account)
        uow.commit()


def account_for_provider(uow: UnitOfWork, organisation_id: str, kind: str) -> ProviderAccountRow:
    """The organisation's account of ``kind`` for a lock added by hand (the oldest one).

    Virtual locks need no credentials, so their account is made on first use; any other
    kind must have been connected first.
    """
    accounts = uow.provider_accounts.of_kind(organisation_id, kind)
    if accounts:
        return accounts[0]
    if kind != "virtual":
        raise InvalidRequest(
            f"connect a {kind} account first (`doorcode provider connect {kind} ...`)"
        )
    account = ProviderAccountRow(
        organisation_id=organisation_id,
        kind=kind,
        label="Virtual locks",
        created_at=uow.now,
        updated_at=uow.now,
        options={},
    )
    uow.provider_accounts.set_credentials(account, {})
    uow.provider_accounts.add(account)
    uow.flush()
    return account


def refuse_account(uow: UnitOfWork, account_id: str, reason: str) -> bool:
    """The back-end refused the account's credentials: stop its locks and raise an alert.

    Part of the caller's transaction. Returns False when the account was refused already
    (nothing new to say).
    """
    account = uow.session.get(ProviderAccountRow, account_id)
    if account is None or account.refused_at is not None:
        return False
    account.refused_at, account.refused_reason = uow.now, reason[:500]
    raise_alert(
        uow,
        account.organisation_id,
        ACCOUNT_REFUSED,
        (SUBJECT, account.id),
        f"{account.kind} refused the credentials of {account.label!r}: {reason}. "
        "Its locks are stopped until you reconnect it (`doorcode provider connect`).",
    )
    return True


def settings_of(uow: UnitOfWork, account: ProviderAccountRow) -> ProviderAccount:
    """The stored account as its provider takes it."""
    return _settings(uow, account)


def _settings(uow: UnitOfWork, account: ProviderAccountRow) -> ProviderAccount:
    return ProviderAccount(
        account.id,
        account.organisation_id,
        account.kind,
        account.label,
        uow.provider_accounts.credentials_of(account),
        {str(key): str(value) for key, value in account.options.items()},
    )


def _check(request: AccountRequest) -> None:
    """Every needed credential, nothing unknown, a usable label: or a clear refusal."""
    label = request.label.strip()
    if not label or len(label) > _MAX_LABEL:
        raise InvalidRequest(f"the label must be 1–{_MAX_LABEL} characters")
    missing = [name for name in request.needed if not request.credentials.get(name, "").strip()]
    if missing:
        raise InvalidRequest(f"a {request.kind} account needs: {', '.join(sorted(missing))}")
    unknown = sorted(set(request.credentials) - {*request.needed, *request.optional})
    if unknown:
        raise InvalidRequest(f"a {request.kind} account takes no {', '.join(unknown)}")
    bad_options = sorted(set(request.options) - set(request.allowed_options))
    if bad_options:
        raise InvalidRequest(f"unknown option(s): {', '.join(bad_options)}")
    port = request.options.get("port")
    if port is not None and not (port.isdecimal() and 1 <= int(port) <= 65535):
        # Read only when the provider first connects: "99999" and "abc" were stored as is.
        raise InvalidRequest("port must be a number from 1 to 65535")
    base_url = request.options.get("base_url")
    if base_url is not None and not is_url(base_url, ("https", "http")):
        raise InvalidRequest("base_url must be an http(s) URL")
    url = request.options.get("url")
    if "url" in request.allowed_options and not url:
        raise InvalidRequest(f"a {request.kind} account needs --option url=ws://HOST:PORT")
    if url is not None and not is_url(url, ("ws", "wss")):
        raise InvalidRequest("url must be a websocket URL, such as ws://homeassistant.local:3000")
