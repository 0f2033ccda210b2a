"""The reconciler: make every lock hold exactly its desired codes, idempotently.

    reconciler = Reconciler.from_runtime(runtime)
    outcomes = await reconciler.reconcile(lock_ids)

Locks are taken in batches: one database read loads every lock of the batch with its grants,
each lock gets its own pass (``LockPass``: list, plan, diff, apply) with a bounded number of
locks in flight, and one transaction records what happened (sync columns, events, grant
reviews). Provider calls happen before that commit; a crash in between leaves codes on locks
that the next pass recognises by their tag and adopts, so nothing is set twice or lost.

Both runners call this same ``reconcile``: the in-process loop of ``doorcode serve``, and the
Procrastinate task of ``doorcode worker`` (with a batch of one lock under a per-lock job lock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from random import Random

from doorcode.domain.clock import Clock
from doorcode.domain.lock_code_status import NOT_PROGRAMMABLE
from doorcode.locks.base import ProviderAccount
from doorcode.locks.registry import ProviderRegistry
from doorcode.runtime import Runtime
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.lock_import import DEVICE_GONE
from doorcode.services.provider_accounts import refuse_account, settings_of
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.lock_sync import LockRecord, code_row
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.lock_pass import LockPass, PassContext
from doorcode.sync.outcomes import EventDraft, LockOutcome, LockResult
from doorcode.sync.rate_limit import RateLimiter
from doorcode.sync.review import review_grants

__all__ = ["ACTOR", "Reconciler"]

ACTOR = "lock-sync"
"""Who the audit log says did it."""

Progress = Callable[[int], None]


class Reconciler:
    """Runs passes over locks and records them; shared by every runner of a process."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        providers: ProviderRegistry,
        cipher: CodeCipher,
        clock: Clock,
        rng: Random,
        alert_before: timedelta = timedelta(hours=24),
        concurrency: int = 8,
        batch_size: int = 500,
    ) -> None:
        self._uow_factory = uow_factory
        self._providers = providers
        self._cipher = cipher
        self._clock = clock
        self._rng = rng
        self._limiter = RateLimiter(clock)
        self._alert_before = alert_before
        self._concurrency = concurrency
        self._batch_size = batch_size

    @classmethod
    def from_runtime(cls, runtime: Runtime, *, batch_size: int = 500) -> Reconciler:
        """A reconciler over the runtime's database, providers and clock."""
        settings = runtime.settings
        return cls(
            uow_factory=runtime.uow,
            providers=runtime.providers,
            cipher=runtime.cipher,
            clock=runtime.clock,
            rng=runtime.rng,
            alert_before=timedelta(hours=settings.alert_before_hours),
            concurrency=settings.sync_concurrency,
            batch_size=batch_size,
        )

    async def reconcile(
        self, lock_ids: Sequence[str], *, force: bool = False, progress: Progress | None = None
    ) -> list[LockOutcome]:
        """One pass over each lock; ``force`` ignores backoffs (an operator asked for it)."""
        outcomes: list[LockOutcome] = []
        for start in range(0, len(lock_ids), self._batch_size):
            batch = lock_ids[start : start + self._batch_size]
            outcomes += await self._reconcile_batch(batch, force)
            if progress is not None:
                progress(len(batch))
        return outcomes

    def pending(self) -> list[str]:
        """Locks whose grants changed since their last pass, or whose next instant has come."""
        with self._uow_factory() as uow:
            return uow.lock_sync.pending_lock_ids(self._clock())

    def every_lock(self, organisation_id: str | None = None) -> list[str]:
        """Every lock, for a sweep."""
        with self._uow_factory() as uow:
            return uow.lock_sync.all_lock_ids(organisation_id)

    def next_due(self) -> datetime | None:
        """When the earliest lock is due again."""
        with self._uow_factory() as uow:
            return uow.lock_sync.next_due()

    async def _reconcile_batch(self, lock_ids: Sequence[str], force: bool) -> list[LockOutcome]:
        now = self._clock()
        locks, accounts, refused = await asyncio.to_thread(self._load, lock_ids, now)
        gate = asyncio.Semaphore(self._concurrency)
        async with self._providers.session(self._clock) as providers:
            context = PassContext(
                providers,
                self._limiter,
                self._cipher.decrypt,
                self._rng,
                now,
                force,
                accounts,
                refused,
            )

            async def visit(lock: LockRecord) -> LockResult:
                async with gate:
                    return await LockPass(lock, context).run()

            results = await asyncio.gather(*(visit(lock) for lock in locks))
        await asyncio.to_thread(self._record, results, now)
        return [result.outcome for result in results]

    def _load(
        self, lock_ids: Sequence[str], now: datetime
    ) -> tuple[list[LockRecord], dict[str, ProviderAccount], dict[str, str]]:
        """The locks, their accounts (credentials decrypted), and which accounts are refused."""
        with self._uow_factory() as uow:
            locks = uow.lock_sync.load(lock_ids, now)
            rows = uow.provider_accounts.by_ids(
                {lock.account_id for lock in locks if lock.account_id is not None}
            )
            accounts = {row.id: settings_of(uow, row) for row in rows}
            refused = {row.id: row.refused_reason or "" for row in rows if row.refused_at}
            return locks, accounts, refused

    def _record(self, results: Sequence[LockResult], now: datetime) -> None:
        """Write every pass of the batch in one transaction, then review affected grants."""
        with self._uow_factory() as uow:
            rows = [
                code_row(result.lock.id, grant_id, state, now)
                for result in results
                for grant_id, state in result.codes.items()
            ]
            uow.lock_sync.save({result.lock.id: result.state for result in results}, rows)
            self._note_gone_devices(uow, results)
            for result in results:
                if result.refused is not None and result.lock.account_id is not None:
                    refuse_account(uow, result.lock.account_id, result.refused)
                if result.health is not None:
                    health = result.health
                    uow.lock_sync.save_health(
                        result.lock.id,
                        health.online,
                        health.battery_percent,
                        health.last_contact_at,
                        now,
                    )
            uow.flush()
            events = [event for result in results for event in result.events]
            events += review_grants(
                uow, *self._grants_to_review(results, now), now, self._alert_before
            )
            for event in events:
                self._write(uow, event, now)
            uow.commit()

    @staticmethod
    def _note_gone_devices(uow: UnitOfWork, results: Sequence[LockResult]) -> None:
        """A device its back-end no longer knows is an alert; one that answers again clears it."""
        gone = [r.lock for r in results if r.gone]
        answering = [r.lock for r in results if r.gone is False]
        for lock in gone:
            raise_alert(
                uow,
                lock.organisation_id,
                DEVICE_GONE,
                ("lock", lock.id),
                f"{lock.provider} does not know the device of {lock.name!r} any more; "
                "remove the lock or import the account again",
            )
        opened = uow.alerts.open_for(DEVICE_GONE, [lock.id for lock in answering])
        for lock in answering:
            if lock.id in opened:
                clear_alert(uow, lock.organisation_id, DEVICE_GONE, ("lock", lock.id))

    def _grants_to_review(
        self, results: Sequence[LockResult], now: datetime
    ) -> tuple[set[str], set[str]]:
        """Grants that must be reviewed, and grants to review only if they have an open alert.

        Must: live grants close enough to their start to need an alert, and grants a code of
        which has just been confirmed (they may now be set everywhere). The rest of the changed
        grants (a far-off stay now waiting for its lead time) can only need an alert cleared.
        """
        horizon = now + self._alert_before
        must: set[str] = set()
        changed: set[str] = set()
        for result in results:
            versions = {code.grant_id: code.version for code in result.lock.codes}
            for grant_id, state in result.codes.items():
                changed.add(grant_id)
                present = state.actual == "present" or state.wait_reason == NOT_PROGRAMMABLE
                if state.confirmed_version == versions[grant_id] and present:
                    must.add(grant_id)
            must.update(
                code.grant_id
                for code in result.lock.codes
                if code.starts_at <= horizon and code.ends_at > now and code.revoked_at is None
            )
        return must, changed - must

    @staticmethod
    def _write(uow: UnitOfWork, event: EventDraft, now: datetime) -> None:
        uow.events.record(
            event.organisation_id,
            at=now,
            actor=ACTOR,
            kind=event.kind,
            subject=event.subject,
            reason=event.reason,
            details=event.details,
        )
