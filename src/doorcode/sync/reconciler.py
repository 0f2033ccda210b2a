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

One lock never stops another: a pass that raises anything unexpected (a bug, data no pass
can handle) is recorded on its lock alone (``LockPass.crashed``: ``sync_error``, a backoff,
a ``LockSyncCrashed`` alert cleared by its next good pass), and if the batch's one
transaction fails, each lock is recorded in a transaction of its own, a lock whose record
still fails as crashed. Logs name the error's type and where it arose, never its text.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
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
from doorcode.store.lock_sync import HealthReport, LockRecord, code_row
from doorcode.store.models import Alert
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.lock_pass import LockPass, PassContext
from doorcode.sync.outcomes import EventDraft, LockOutcome, LockResult
from doorcode.sync.rate_limit import RateLimiter
from doorcode.sync.retry import PassCrashed
from doorcode.sync.review import review_grants
from doorcode.sync.vendor_offline import (
    BACKUP_PULLED,
    IssuedVendorCode,
    record_pull,
    store_vendor_code,
)

__all__ = ["ACTOR", "LOCK_SYNC_CRASHED", "Reconciler"]

logger = logging.getLogger(__name__)

ACTOR = "lock-sync"
"""Who the audit log says did it."""

LOCK_SYNC_CRASHED = "LockSyncCrashed"
"""The alert open while a lock's pass fails unexpectedly."""

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

    @property
    def batch_size(self) -> int:
        """How many locks one database read loads and one transaction records."""
        return self._batch_size

    @property
    def concurrency(self) -> int:
        """How many passes of one batch run at once."""
        return self._concurrency

    def now(self) -> datetime:
        """The instant by the reconciler's clock: what its passes call now."""
        return self._clock()

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
                self._reserve_slot,
                accounts,
                refused,
                fallback_before=self._alert_before,
            )

            async def visit(lock: LockRecord) -> LockResult:
                async with gate:
                    visiting = LockPass(lock, context)
                    try:
                        return await visiting.run()
                    except Exception as err:  # this lock's failure, not the batch's
                        _log_crash(lock.id, "pass", err)
                        crashed = LockPass(lock, context).crashed(err)
                        # Backups it pulled are on the lock all the same: they are recorded.
                        return replace(crashed, offline_codes=_pulls(visiting.issued.values()))

            results = await asyncio.gather(*(visit(lock) for lock in locks))
        recorded = await asyncio.to_thread(self._record, results, context)
        return [result.outcome for result in recorded]

    async def _reserve_slot(
        self, lock_id: str, grant_id: str, slot: int, written: str | None = None
    ) -> bool:
        """Commit a grant's slot, and the code token going there, before its code is written:
        a crash then loses nothing.

        False when a pass in another process holds that slot for another grant.
        """

        def reserve() -> bool:
            with self._uow_factory() as uow:
                if not uow.lock_sync.reserve_slot(lock_id, grant_id, slot, written):
                    return False  # left uncommitted: the unit of work rolls it back
                uow.commit()
                return True

        return await asyncio.to_thread(reserve)

    def _load(
        self, lock_ids: Sequence[str], now: datetime
    ) -> tuple[list[LockRecord], dict[str, ProviderAccount], dict[str, str]]:
        """The locks, their accounts (credentials decrypted), and which accounts are refused.

        Slots of grants that ended since the last pass, their codes already off, are released
        first: their rows are settled and not loaded, so a pass would take those slots for
        free and find each held, and a new guest's code would wait for room.
        """
        with self._uow_factory() as uow:
            if uow.lock_sync.has_releasable_slots(lock_ids, now):
                uow.lock_sync.release_slots(lock_ids, now)
                uow.commit()
        with self._uow_factory() as uow:
            locks = uow.lock_sync.load(lock_ids, now)
            rows = uow.provider_accounts.by_ids(
                {lock.account_id for lock in locks if lock.account_id is not None}
            )
            accounts = {row.id: settings_of(uow, row) for row in rows}
            refused = {row.id: row.refused_reason or "" for row in rows if row.refused_at}
            return locks, accounts, refused

    def _record(self, results: Sequence[LockResult], context: PassContext) -> list[LockResult]:
        """Record the batch in one transaction, or each lock alone if that fails."""
        try:
            self._record_together(results, context.now)
            return list(results)
        except Exception as err:
            if len(results) == 1 and results[0].crashed and not results[0].offline_codes:
                raise  # not even a failure can be written: the database, not a lock
            _log_crash(f"batch of {len(results)}", "record", err)
        return [self._record_alone(result, context) for result in results]

    def _record_alone(self, result: LockResult, context: PassContext) -> LockResult:
        try:
            self._record_together([result], context.now)
            return result
        except Exception as err:
            _log_crash(result.lock.id, "record", err)
            crashed = LockPass(result.lock, context).crashed(err)
        self._record_pulls(result)
        self._record_together([crashed], context.now)
        return crashed

    def _record_pulls(self, result: LockResult) -> None:
        """Record the backups a pass pulled, alone: its result could not be written.

        Each is a real code on the lock; unrecorded, no pass would ever delete it.
        """
        pulls = _pulls(result.offline_codes)
        if not pulls:
            return
        try:
            with self._uow_factory() as uow:
                for pull in pulls:
                    record_pull(uow, pull)
                uow.commit()
        except Exception as err:
            _log_crash(result.lock.id, "record pulled backups", err)

    def _record_together(self, results: Sequence[LockResult], now: datetime) -> None:
        """Write every pass of the batch in one transaction, then review affected grants."""
        with self._uow_factory() as uow:
            rows = [
                code_row(result.lock.id, grant_id, state, now)
                for result in results
                for grant_id, state in result.codes.items()
            ]
            uow.lock_sync.save({result.lock.id: result.state for result in results}, rows)
            uow.lock_sync.save_written(
                [
                    (result.lock.id, grant_id, token)
                    for result in results
                    for grant_id, token in result.written.items()
                ]
            )
            uow.lock_sync.release_slots([result.lock.id for result in results], now)
            self._note_gone_devices(uow, results)
            for result in results:
                if result.refused is not None and result.lock.account_id is not None:
                    refuse_account(uow, result.lock.account_id, result.refused)
            reports = [
                HealthReport(r.lock.id, h.online, h.battery_percent, h.last_contact_at)
                for r in results
                if (h := r.health) is not None
            ]
            uow.lock_sync.save_health(reports, now)
            uow.offline.mark_backups_removed(
                [record for result in results for record in result.backups_removed], now
            )
            stored = [
                store_vendor_code(uow, issued)
                for result in results
                for issued in result.offline_codes
            ]
            uow.flush()
            events = [event for result in results for event in result.events]
            events += [event for event in stored if event is not None]
            events += review_grants(
                uow, *self._grants_to_review(results, now), now, self._alert_before
            )
            events += _crash_alerts(uow, results, now)
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
            if result.crashed:  # its grants are as they were; reviewing them may fail again
                continue
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


def _crash_alerts(
    uow: UnitOfWork, results: Sequence[LockResult], now: datetime
) -> list[EventDraft]:
    """Raise ``LockSyncCrashed`` for locks whose pass crashed; clear it once one completes."""
    subjects = {result.lock.id: result for result in results}
    open_alerts = uow.alerts.open_for(LOCK_SYNC_CRASHED, subjects)
    events: list[EventDraft] = []
    for lock_id, result in subjects.items():
        alert = open_alerts.get(lock_id)
        organisation_id, subject = result.lock.organisation_id, ("lock", lock_id)
        if result.crashed and alert is None:
            message = f"lock sync of {result.lock.name} fails: {result.state.sync_error}"
            uow.alerts.add(
                Alert(
                    organisation_id=organisation_id,
                    kind=LOCK_SYNC_CRASHED,
                    subject_type=subject[0],
                    subject_id=lock_id,
                    message=message,
                    raised_at=now,
                    updated_at=now,
                )
            )
            events.append(EventDraft(organisation_id, "AlertRaised", subject, message))
        elif alert is not None and not _still_crashing(result):
            alert.cleared_at = alert.updated_at = now
            events.append(EventDraft(organisation_id, "AlertCleared", subject, "the pass ran"))
    return events


def _still_crashing(result: LockResult) -> bool:
    """Crashed now, or backing off after a crash without a pass since."""
    error = result.state.sync_error or ""
    return result.crashed or error.startswith(PassCrashed.PREFIX)


def _pulls(issued: Iterable[IssuedVendorCode]) -> tuple[IssuedVendorCode, ...]:
    """The backup-pool codes among a pass's vendor codes: those that are on the lock."""
    return tuple(found for found in issued if found.kind == BACKUP_PULLED)


def _log_crash(where: str, stage: str, error: BaseException) -> None:
    """Say what failed and where, but never the error's text: it may quote a code."""
    frames = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
    )
    logger.error(
        "lock sync %s of %s failed with %s\n%s", stage, where, type(error).__name__, frames
    )
