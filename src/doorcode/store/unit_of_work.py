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
from typing import TYPE_CHECKING, Self

from sqlalchemy.orm import Session, sessionmaker

from doorcode.domain.clock import Clock
from doorcode.domain.reservations import MAX_STAY_NIGHTS
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.repositories import (
    AlertRepository,
    ApiKeyRepository,
    EventRepository,
    GrantRepository,
    LockRepository,
    OrganisationRepository,
    PropertyRepository,
    ReservationRepository,
    forget_pending_events,
    write_pending_events,
)

if TYPE_CHECKING:  # each loads with its first use: a CLI listing needs none of them
    from doorcode.store.access_repository import AccessRepository
    from doorcode.store.account_repository import ProviderAccountRepository
    from doorcode.store.lock_sync import LockSyncRepository
    from doorcode.store.message_repository import MessageRepository
    from doorcode.store.offline_repository import OfflineRepository
    from doorcode.store.schedule_repository import ScheduleRepository
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
        max_stay_nights: int = MAX_STAY_NIGHTS,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.cipher = cipher
        self.rng = rng
        self.max_stay_nights = max_stay_nights
        self._after_commit = list(after_commit)
        self._touched_locks: set[str] = set()

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.now = self._clock()
        self.organisations = OrganisationRepository(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.properties = PropertyRepository(self.session)
        self.locks = LockRepository(self.session)
        self.reservations = ReservationRepository(self.session, self.cipher)
        self.grants = GrantRepository(self.session, self.cipher)
        self.events = EventRepository(self.session)
        self.alerts = AlertRepository(self.session)
        self._touched_locks = set()
        return self

    # The repositories below are built when first asked for, each time over the current
    # session (they keep no state of their own): importing their modules up front cost every
    # CLI command tens of milliseconds, most of them for tables the command never reads.

    @property
    def provider_accounts(self) -> ProviderAccountRepository:
        """The provider accounts of this transaction."""
        from doorcode.store.account_repository import ProviderAccountRepository

        return ProviderAccountRepository(self.session, self.cipher)

    @property
    def offline(self) -> OfflineRepository:
        """The offline of this transaction."""
        from doorcode.store.offline_repository import OfflineRepository

        return OfflineRepository(self.session, self.cipher)

    @property
    def lock_sync(self) -> LockSyncRepository:
        """The lock sync of this transaction."""
        from doorcode.store.lock_sync import LockSyncRepository

        return LockSyncRepository(self.session)

    @property
    def sources(self) -> SourceRepository:
        """The sources of this transaction."""
        from doorcode.store.source_repositories import SourceRepository

        return SourceRepository(self.session)

    @property
    def deliveries(self) -> DeliveryRepository:
        """The deliveries of this transaction."""
        from doorcode.store.source_repositories import DeliveryRepository

        return DeliveryRepository(self.session)

    @property
    def feeds(self) -> FeedRepository:
        """The feeds of this transaction."""
        from doorcode.store.source_repositories import FeedRepository

        return FeedRepository(self.session)

    @property
    def pushes(self) -> PushRepository:
        """The pushes of this transaction."""
        from doorcode.store.source_repositories import PushRepository

        return PushRepository(self.session)

    @property
    def outbox(self) -> OutboxRepository:
        """The outbox of this transaction."""
        from doorcode.store.source_repositories import OutboxRepository

        return OutboxRepository(self.session)

    @property
    def messages(self) -> MessageRepository:
        """The messages of this transaction."""
        from doorcode.store.message_repository import MessageRepository

        return MessageRepository(self.session)

    @property
    def users(self) -> UserRepository:
        """The users of this transaction."""
        from doorcode.store.web_repositories import UserRepository

        return UserRepository(self.session)

    @property
    def web_sessions(self) -> WebSessionRepository:
        """The web sessions of this transaction."""
        from doorcode.store.web_repositories import WebSessionRepository

        return WebSessionRepository(self.session)

    @property
    def failed_attempts(self) -> FailedAttemptRepository:
        """The failed attempts of this transaction."""
        from doorcode.store.web_repositories import FailedAttemptRepository

        return FailedAttemptRepository(self.session)

    @property
    def host_notices(self) -> HostNoticeRepository:
        """The host notices of this transaction."""
        from doorcode.store.web_repositories import HostNoticeRepository

        return HostNoticeRepository(self.session)

    @property
    def access(self) -> AccessRepository:
        """The access of this transaction."""
        from doorcode.store.access_repository import AccessRepository

        return AccessRepository(self.session)

    @property
    def schedules(self) -> ScheduleRepository:
        """The schedules of this transaction."""
        from doorcode.store.schedule_repository import ScheduleRepository

        return ScheduleRepository(self.session)

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
        write_pending_events(self.session)
        self.session.flush()

    def commit(self) -> None:
        """Make the work durable, then tell the hooks which locks to look at."""
        write_pending_events(self.session)
        self.session.commit()
        touched, self._touched_locks = frozenset(self._touched_locks), set()
        for hook in self._after_commit:
            hook(touched)

    def rollback(self) -> None:
        """Forget everything not committed."""
        forget_pending_events(self.session)
        self.session.rollback()
        self._touched_locks = set()
