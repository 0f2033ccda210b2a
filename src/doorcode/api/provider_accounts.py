"""/provider-accounts: an organisation's lock back-ends, and importing their devices.

Owners connect and remove accounts (they hold secrets); credentials go in and never come out:
the answers name which credentials an account holds, not their values.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.schemas import Name, Strict
from doorcode.services import provider_accounts
from doorcode.services.lock_import import ImportReport, import_locks
from doorcode.services.provider_accounts import AccountSummary

router = APIRouter(prefix="/provider-accounts", tags=["provider accounts"])

Secret = dict[str, str]


class NewAccountBody(Strict):
    """An account to connect; connecting an existing label again replaces its credentials."""

    kind: str = Field(min_length=1, max_length=32, examples=["seam"])
    label: Name
    credentials: Secret = Field(default_factory=dict, description="Never shown again.")
    options: dict[str, str] = Field(default_factory=dict, examples=[{"base_url": "https://…"}])

    def __repr__(self) -> str:
        return f"NewAccountBody({self.kind!r}, {self.label!r}, credentials=***)"


class AccountBody(BaseModel):
    """An account as stored, without its credentials."""

    id: str
    kind: str
    label: str
    credential_names: list[str]
    options: dict[str, str]
    locks: int
    refused: str | None = Field(description="Why the back-end refused the credentials, if it did.")
    imported_at: str | None


class ImportBody(BaseModel):
    """What an import did, by lock name."""

    account: str
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    gone: list[str]
    taken: list[str]


def account_body(summary: AccountSummary) -> AccountBody:
    """An account for the API."""
    return AccountBody(
        id=summary.id,
        kind=summary.kind,
        label=summary.label,
        credential_names=list(summary.credential_names),
        options=summary.options,
        locks=summary.locks,
        refused=summary.refused_reason,
        imported_at=summary.imported_at,
    )


def import_body(report: ImportReport) -> ImportBody:
    """An import report for the API."""
    return ImportBody(
        account=report.account,
        added=report.added,
        changed=report.changed,
        unchanged=report.unchanged,
        gone=report.gone,
        taken=report.taken,
    )


@router.get("")
def list_accounts(runtime: RuntimeDep, caller: CallerDep) -> list[AccountBody]:
    """The organisation's provider accounts."""
    return [account_body(a) for a in provider_accounts.list_accounts(runtime.uow(), caller)]


@router.post("", status_code=status.HTTP_201_CREATED)
def connect_account(body: NewAccountBody, runtime: RuntimeDep, caller: CallerDep) -> AccountBody:
    """Connect an account (owners only)."""
    request = provider_accounts.account_request(
        runtime.providers, body.kind, body.label, body.credentials, body.options
    )
    account = provider_accounts.connect_account(runtime.uow(), caller, request)
    found = provider_accounts.list_accounts(runtime.uow(), caller)
    return account_body(next(summary for summary in found if summary.id == account.id))


@router.delete("/{reference}", status_code=status.HTTP_204_NO_CONTENT)
def remove_account(reference: str, runtime: RuntimeDep, caller: CallerDep) -> None:
    """Forget an account and its credentials (owners only; refused while it has locks)."""
    provider_accounts.remove_account(runtime.uow(), caller, reference)


@router.post("/{reference}/import")
async def import_devices(reference: str, runtime: RuntimeDep, caller: CallerDep) -> ImportBody:
    """Pull the account's devices as locks; again, it changes only what changed."""
    report = await import_locks(runtime.uow, runtime.providers, runtime.clock, caller, reference)
    return import_body(report)
