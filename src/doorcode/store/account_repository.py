"""Provider accounts: an organisation's credentials at each lock back-end, encrypted at rest.

Credentials go in and out only through this repository: stored as the Fernet token of a JSON
object, revealed only to build the account's provider. Nothing here logs them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorcode.store.code_cipher import CodeCipher
from doorcode.store.models import Lock, ProviderAccountRow

__all__ = ["ProviderAccountRepository"]


class ProviderAccountRepository:
    """Provider accounts of an organisation, and their credentials."""

    def __init__(self, session: Session, cipher: CodeCipher) -> None:
        self._session = session
        self._cipher = cipher

    def add(self, account: ProviderAccountRow) -> None:
        """Stage a new account (credentials set with ``set_credentials`` first)."""
        self._session.add(account)

    def get(self, organisation_id: str, account_id: str) -> ProviderAccountRow | None:
        """The account with this id, if it belongs to the organisation."""
        account = self._session.get(ProviderAccountRow, account_id)
        return (
            account if account is not None and account.organisation_id == organisation_id else None
        )

    def find(self, organisation_id: str, reference: str) -> ProviderAccountRow | None:
        """The account known by id or label."""
        for column in (ProviderAccountRow.id, ProviderAccountRow.label):
            query = select(ProviderAccountRow).where(
                ProviderAccountRow.organisation_id == organisation_id, column == reference
            )
            found = self._session.scalar(query)
            if found is not None:
                return found
        return None

    def all(self, organisation_id: str) -> list[ProviderAccountRow]:
        """The organisation's accounts, by label."""
        query = (
            select(ProviderAccountRow)
            .where(ProviderAccountRow.organisation_id == organisation_id)
            .order_by(ProviderAccountRow.label)
        )
        return list(self._session.scalars(query))

    def of_kind(self, organisation_id: str, kind: str) -> list[ProviderAccountRow]:
        """The organisation's accounts at one kind of back-end, oldest first."""
        query = (
            select(ProviderAccountRow)
            .where(
                ProviderAccountRow.organisation_id == organisation_id,
                ProviderAccountRow.kind == kind,
            )
            .order_by(ProviderAccountRow.created_at, ProviderAccountRow.id)
        )
        return list(self._session.scalars(query))

    def by_ids(self, account_ids: Collection[str]) -> list[ProviderAccountRow]:
        """Accounts by id in any organisation: for the reconciler, which serves them all."""
        if not account_ids:
            return []
        query = select(ProviderAccountRow).where(ProviderAccountRow.id.in_(sorted(account_ids)))
        return list(self._session.scalars(query))

    def lock_counts(self, organisation_id: str) -> dict[str, int]:
        """How many locks each of the organisation's accounts holds."""
        query = (
            select(Lock.account_id, func.count())
            .where(Lock.organisation_id == organisation_id, Lock.account_id.is_not(None))
            .group_by(Lock.account_id)
        )
        return {str(account): int(count) for account, count in self._session.execute(query)}

    def locks_of(self, account_id: str) -> list[Lock]:
        """Every lock imported from (or attached to) the account."""
        query = select(Lock).where(Lock.account_id == account_id).order_by(Lock.name)
        return list(self._session.scalars(query))

    def credentials_of(self, account: ProviderAccountRow) -> dict[str, str]:
        """The account's credentials in clear: only to build its provider."""
        stored = json.loads(self._cipher.decrypt(account.credentials_token))
        return {str(key): str(value) for key, value in stored.items()}

    def set_credentials(self, account: ProviderAccountRow, credentials: Mapping[str, str]) -> None:
        """Encrypt and store the account's credentials."""
        account.credentials_token = self._cipher.encrypt(json.dumps(dict(credentials)))
