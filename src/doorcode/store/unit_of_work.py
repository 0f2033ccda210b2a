"""The unit of work: one transaction, its repositories, and one reading of the clock.

Services write ``with uow: ...; uow.commit()``; leaving the block without committing rolls
everything back, so a rejected request changes nothing. ``uow.now`` is read once when the
block opens: every row and event written by one transaction carries the same instant.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from random import Random
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from doorcode.domain.clock import Clock
from doorcode.store.account_repository import ProviderAccountRepository
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.lock_sync import LockSyncRepository
from doorcode.store.message_repository import MessageRepository
from doorcode.store.offline_repository import OfflineRepository
from doorcode.store.repositories import (
    AlertRepository,
    ApiKeyRepository,
    EventRepository,
    GrantRepository,
    LockRepository,
    OrganisationRepository,
    PropertyRepository,
    ReservationRepository,
)
from doorcode.store.source_repositories import (
    DeliveryRepository,
    FeedRepository,
    OutboxRepository,
    PushRepository,
    SourceRepository,
)
from doorcode.store.web_repositories import (
    FailedAttemptRepository,
    HostNoticeRepository,
    UserRepository,
    WebSessionRepository,
)

__all__ = ["CommitHook", "UnitOfWork"]

CommitHook = Callable[[frozenset[str]], None]
"""Called after a commit with the ids of locks whose desired state changed."""


class UnitOfWork:
    """A transaction over every repository; the services' only way to the database."""

    session: Session
    now: datetime

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: CodeCipher,
        clock: Clock,
        rng: Random,
        after_commit: Sequence[CommitHook] = (),
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.cipher = cipher
        self.rng = rng
        self._after_commit = list(after_commit)
        self._touched_locks: set[str] = set()

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.now = self._clock()
        self.organisations = OrganisationRepository(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.properties = PropertyRepository(self.session)
        self.locks = LockRepository(self.session)
        self.provider_accounts = ProviderAccountRepository(self.session, self.cipher)
        self.reservations = ReservationRepository(self.session, self.cipher)
        self.grants = GrantRepository(self.session, self.cipher)
        self.events = EventRepository(self.session)
        self.offline = OfflineRepository(self.session, self.cipher)
        self.alerts = AlertRepository(self.session)
        self.lock_sync = LockSyncRepository(self.session)
        self.sources = SourceRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.feeds = FeedRepository(self.session)
        self.pushes = PushRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.messages = MessageRepository(self.session)
        self.users = UserRepository(self.session)
        self.web_sessions = WebSessionRepository(self.session)
        self.failed_attempts = FailedAttemptRepository(self.session)
        self.host_notices = HostNoticeRepository(self.session)
        self._touched_locks = set()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing rolls back anything uncommitted, yet keeps loaded rows readable for the
        # caller (a rollback would expire them).
        self.session.close()
        self._touched_locks = set()

    def touch_locks(self, lock_ids: Collection[str]) -> None:
        """Note that these locks' desired codes changed; the reconciler will visit them."""
        fresh = set(lock_ids) - self._touched_locks
        self.locks.request_sync(fresh, self.now)
        self._touched_locks |= fresh

    def flush(self) -> None:
        """Send pending changes so generated ids and constraints are checked now."""
        self.session.flush()

    def commit(self) -> None:
        """Make the work durable, then tell the hooks which locks to look at."""
        self.session.commit()
        touched, self._touched_locks = frozenset(self._touched_locks), set()
        for hook in self._after_commit:
            hook(touched)

    def rollback(self) -> None:
        """Forget everything not committed."""
        self.session.rollback()
        self._touched_locks = set()
