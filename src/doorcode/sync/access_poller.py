"""Asking every lock what happened at its door, and how it is: the access pass.

One pass asks each lock's back-end for the access events after the lock's cursor and for
its health, stores both (``services.access_events``, ``services.lock_health``), then sends
the no-show notices that are due and purges what is older than the retention. ``serve`` runs
it in a loop (``run_access_poller``); ``doorcode worker`` as a periodic job (``worker.py``).
Provider calls are awaited here; the database work runs in a thread, as the other loops do.
A lock whose back-end fails is skipped until the next pass, never the whole pass.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from doorcode.config import Settings
from doorcode.domain.lock_health import HealthReading, health_problems, is_worth_a_sample
from doorcode.locks.access_events import AccessEvent
from doorcode.locks.base import ProviderAccount
from doorcode.locks.errors import ProviderError
from doorcode.locks.health import LockHealth
from doorcode.locks.registry import ProviderSession
from doorcode.notify.channels import available_channel_names
from doorcode.runtime import Runtime
from doorcode.services.access_events import AccessPolicy, record_events_of_lock
from doorcode.services.arrivals import notice_no_shows
from doorcode.services.lock_health import record_health
from doorcode.services.provider_accounts import settings_of

__all__ = [
    "AccessPass",
    "access_policy",
    "poll_access",
    "poll_lock",
    "purge_access_history",
    "run_access_poller",
]

logger = logging.getLogger(__name__)

_NEVER = datetime.max.replace(tzinfo=UTC)
MAX_PAGES = 20
"""Pages of events one lock gives per pass; a lock far behind catches up over several."""
ASK_AT_ONCE = 8
"""Locks asked at the same time."""
ASK_WITHIN = timedelta(seconds=30)
"""How long one lock's back-end has to answer, all pages together."""
BUSY_AROUND = timedelta(hours=1)
"""A lock is busy, and asked every pass, while a code on it is in use within this of now: the
host hears of an arrival within a pass; a quiet lock is asked every
``DOORCODE_ACCESS_QUIET_POLL_SECONDS``, never for the first time later than the next pass."""


@dataclass
class AccessPass:
    """What one pass did."""

    locks: int = 0
    stored: int = 0
    failed: int = 0
    no_shows: int = 0
    purged: int = 0


@dataclass(frozen=True, slots=True)
class _Target:
    lock_id: str
    organisation_id: str
    provider: str
    device_id: str
    cursor: str | None
    previous: HealthReading | None
    account: ProviderAccount | None


_Answer = tuple[_Target, list[AccessEvent], str | None, LockHealth]


def access_policy(settings: Settings) -> AccessPolicy:
    """The deployment's access settings and the host-notice channels it has."""
    return AccessPolicy(
        channels=available_channel_names(settings),
        refusals_alert_count=settings.refusals_alert_count,
        battery_alert_percent=settings.battery_alert_percent,
        retention=timedelta(days=settings.access_retention_days),
    )


async def poll_access(runtime: Runtime) -> AccessPass:
    """One pass over every lock, then no-shows and the purge.

    Each lock is asked on its own, a few at a time and each within ``ASK_WITHIN``: a back-end
    that hangs, or an error of any kind at one lock, costs that lock this pass and nothing
    else. Errors are logged by type and place, never by their text (it may quote a code).
    """
    policy = access_policy(runtime.settings)
    report = AccessPass()
    targets = await asyncio.to_thread(_targets, runtime)
    report.locks = len(targets)
    gate = asyncio.Semaphore(ASK_AT_ONCE)

    async def ask(providers: ProviderSession, target: _Target) -> _Answer | None:
        async with gate:
            try:
                async with asyncio.timeout(ASK_WITHIN.total_seconds()):
                    return (target, *await _ask(providers, target))
            except ProviderError as err:
                logger.warning("could not read lock %s's access log: %s", target.lock_id, err)
            except Exception as err:  # one lock's failure is that lock's, whatever it is
                _log_failure(f"reading lock {target.lock_id}", err)
            report.failed += 1
            return None

    async with runtime.providers.session(runtime.clock) as providers:
        asked = await asyncio.gather(*(ask(providers, target) for target in targets))
    answers = [answer for answer in asked if answer is not None]
    # The lock whose news is oldest first: a guest who opened the street door, then the flat
    # door, arrived at the street door, whichever lock the pass happened to ask first.
    answers.sort(key=lambda answer: min((e.occurred_at for e in answer[1]), default=_NEVER))
    quiet: list[str] = []
    for target, events, cursor, health in answers:
        if not _is_news(target, events, cursor, health, policy, runtime.clock()):
            quiet.append(target.lock_id)
            continue
        try:
            report.stored += await asyncio.to_thread(
                _store, runtime, target, events, cursor, health, policy
            )
        except Exception as err:
            report.failed += 1
            _log_failure(f"storing lock {target.lock_id}'s events", err)
    try:
        await asyncio.to_thread(_mark_asked, runtime, quiet)
    except Exception as err:  # they are asked again next pass, no worse
        _log_failure("recording the quiet locks asked", err)
    try:
        report.no_shows = await asyncio.to_thread(notice_no_shows, runtime.uow(), policy.channels)
    except Exception as err:
        _log_failure("sending no-show notices", err)
    try:
        report.purged = await asyncio.to_thread(purge_access_history, runtime, policy.retention)
    except Exception as err:
        _log_failure("purging access history", err)
    return report


def _log_failure(what: str, error: BaseException) -> None:
    """Say what failed and where, but never the error's text: it may quote a code."""
    frames = " < ".join(
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in reversed(traceback.extract_tb(error.__traceback__))
    )
    logger.error("access pass: %s failed with %s at %s", what, type(error).__name__, frames)


async def poll_lock(runtime: Runtime, lock_id: str) -> int:
    """Read one lock now (after someone typed at its keypad, say); how many events were new."""
    policy = access_policy(runtime.settings)
    targets = await asyncio.to_thread(_targets, runtime, lock_id)
    stored = 0
    async with runtime.providers.session(runtime.clock) as providers:
        for target in targets:
            try:
                events, cursor, health = await _ask(providers, target)
            except ProviderError as err:  # the next pass reads it
                logger.warning("could not read lock %s's access log: %s", target.lock_id, err)
                continue
            stored += await asyncio.to_thread(
                _store, runtime, target, events, cursor, health, policy
            )
    return stored


def purge_access_history(runtime: Runtime, retention: timedelta) -> int:
    """Delete access events and health samples older than ``retention``; how many rows."""
    with runtime.uow() as uow:
        purged = uow.access.purge(uow.now - retention)
        uow.commit()
    if purged:
        logger.info("purged %d access event(s) and health sample(s) past retention", purged)
    return purged


async def run_access_poller(runtime: Runtime) -> None:
    """Passes ``DOORCODE_ACCESS_POLL_SECONDS`` apart until cancelled; no failure stops it."""
    while True:
        try:
            await poll_access(runtime)
        except Exception as err:  # the loop must outlive any one bad pass
            _log_failure("the pass", err)
        await asyncio.sleep(runtime.settings.access_poll_seconds)


def _targets(runtime: Runtime, lock_id: str | None = None) -> list[_Target]:
    """The locks to ask: the one named, or those due this pass (``_is_due``)."""
    with runtime.uow() as uow:
        targets = []
        samples = uow.access.latest_samples(None)
        cursors = uow.access.cursors()
        locks = uow.access.pollable_locks(lock_id)
        if lock_id is None:
            now = runtime.clock()
            quiet = timedelta(seconds=runtime.settings.access_quiet_poll_seconds)
            busy = uow.access.busy_lock_ids(now - BUSY_AROUND, now + BUSY_AROUND)
            locks = [
                lock
                for lock in locks
                if lock.id in busy
                or lock.id not in cursors
                or _is_due(lock.id, cursors[lock.id].polled_at, now, quiet)
            ]
        rows = uow.provider_accounts.by_ids({lock.account_id for lock in locks if lock.account_id})
        accounts = {row.id: settings_of(uow, row) for row in rows}
        for lock in locks:
            stored = cursors.get(lock.id)
            cursor = stored.cursor if stored is not None else None
            sample = samples.get(lock.id)
            previous = (
                None
                if sample is None
                else HealthReading(sample.online, sample.battery_percent, sample.observed_at)
            )
            targets.append(
                _Target(
                    lock.id,
                    lock.organisation_id,
                    lock.provider,
                    lock.external_id,
                    cursor,
                    previous,
                    accounts.get(lock.account_id or ""),
                )
            )
        return targets


def _is_due(lock_id: str, asked_at: datetime, now: datetime, quiet: timedelta) -> bool:
    """Whether a quiet lock has waited its turn.

    Each lock waits between three quarters of ``quiet`` and all of it, by a fraction fixed
    by its id: locks first asked together (at start-up, after an import) drift apart over a
    few rounds instead of all asking the cloud in the same minute for ever.
    """
    spread = 0.75 + 0.25 * (zlib.crc32(lock_id.encode()) % 1000) / 1000
    return now - asked_at >= quiet * spread


def _is_news(
    target: _Target,
    events: list[AccessEvent],
    cursor: str | None,
    health: LockHealth,
    policy: AccessPolicy,
    now: datetime,
) -> bool:
    """Whether a lock's answer changes anything stored: events, its cursor, or its health.

    An idle lock whose health reads as last time (and is not due an hourly reading) costs no
    transaction: the pass over thousands of quiet locks stays within its minute.
    """
    if events or cursor != target.cursor or target.previous is None:
        return True
    reading = HealthReading(health.online, health.battery_percent, now)
    threshold = policy.battery_alert_percent
    return is_worth_a_sample(target.previous, reading) or health_problems(
        reading, threshold
    ) != health_problems(target.previous, threshold)


async def _ask(
    providers: ProviderSession, target: _Target
) -> tuple[list[AccessEvent], str | None, LockHealth]:
    """The lock's new events (a few pages at most) and its health, from its back-end."""
    provider = providers.for_account(target.account)
    events: list[AccessEvent] = []
    cursor = target.cursor
    for _ in range(MAX_PAGES):
        page = await provider.access_events(target.device_id, cursor)
        events.extend(page.events)
        if not page.events or page.cursor == cursor:
            cursor = page.cursor
            break
        cursor = page.cursor
    return events, cursor, await provider.health(target.device_id)


def _mark_asked(runtime: Runtime, lock_ids: list[str]) -> None:
    """One statement for every lock that answered with nothing new (no cursor moved)."""
    if not lock_ids:
        return
    with runtime.uow() as uow:
        uow.access.mark_asked(lock_ids, uow.now)
        uow.commit()


def _store(
    runtime: Runtime,
    target: _Target,
    events: list[AccessEvent],
    cursor: str | None,
    health: LockHealth,
    policy: AccessPolicy,
) -> int:
    with runtime.uow() as uow:
        lock = uow.locks.get(target.organisation_id, target.lock_id)
        if lock is None:
            return 0
        report = record_events_of_lock(uow, lock, events, policy)
        uow.access.save_cursor(lock.id, cursor, uow.now)
        record_health(uow, lock, health, policy.battery_alert_percent)
        uow.commit()
        return report.stored
