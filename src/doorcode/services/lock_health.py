"""Lock health: readings kept as history, and alerts ranked by the arrival at stake.

A lock that is offline or whose battery is below the threshold gets an alert naming the next
arrival on it ("Battery 12 %; next guest arrives tomorrow 15:00 (Tom, Flat 1A)"). It is raised
at the first reading that shows the problem, however far off that arrival is, so there is
time to change batteries; and cleared at the first reading that shows it gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.domain.lock_health import (
    HealthProblem,
    HealthReading,
    health_problems,
    is_worth_a_sample,
    when_phrase,
)
from doorcode.domain.windows import zone_named
from doorcode.locks.health import LockHealth
from doorcode.services.alerts import clear_alert, raise_alert
from doorcode.services.caller import Caller
from doorcode.services.errors import NotFound
from doorcode.store.models import Lock, LockHealthSample, Reservation
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["HealthAttention", "health_attention", "health_history", "record_health"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthAttention:
    """A lock whose health needs a person, with the arrival at stake (None: none booked)."""

    lock: Lock
    sample: LockHealthSample
    problems: frozenset[HealthProblem]
    next_arrival: Reservation | None
    message: str


def record_health(uow: UnitOfWork, lock: Lock, health: LockHealth, battery_threshold: int) -> None:
    """Keep the reading (when worth it) and raise or clear the lock's health alerts.

    Part of the caller's transaction.
    """
    reading = HealthReading(health.online, health.battery_percent, uow.now)
    previous = uow.access.latest_sample(lock.id)
    if is_worth_a_sample(_reading_of(previous), reading):
        uow.access.add_sample(
            LockHealthSample(
                organisation_id=lock.organisation_id,
                lock_id=lock.id,
                observed_at=uow.now,
                online=health.online,
                battery_percent=health.battery_percent,
                last_contact_at=health.last_contact_at,
            )
        )
    problems = health_problems(reading, battery_threshold)
    arrival = uow.access.next_arrival_at_lock(lock.id, uow.now)
    for problem in HealthProblem:
        subject = ("lock", lock.id)
        if problem in problems:
            message = _message(lock, problem, health, arrival, uow.now)
            raise_alert(uow, lock.organisation_id, problem.value, subject, message)
        else:
            clear_alert(uow, lock.organisation_id, problem.value, subject)


def health_attention(
    uow: UnitOfWork, organisation_id: str, battery_threshold: int
) -> list[HealthAttention]:
    """The organisation's locks whose last reading shows a problem, soonest arrival first.

    Part of the caller's transaction.
    """
    samples = uow.access.latest_samples(organisation_id)
    found = []
    for lock in uow.locks.all(organisation_id):
        sample = samples.get(lock.id)
        if sample is None:
            continue
        reading = HealthReading(sample.online, sample.battery_percent, sample.observed_at)
        problems = frozenset(health_problems(reading, battery_threshold))
        if not problems:
            continue
        arrival = uow.access.next_arrival_at_lock(lock.id, uow.now)
        health = LockHealth(sample.online, sample.battery_percent, sample.last_contact_at)
        message = "; ".join(
            _message(lock, problem, health, arrival, uow.now) for problem in sorted(problems)
        )
        found.append(HealthAttention(lock, sample, problems, arrival, message))
    far = datetime.max.replace(tzinfo=uow.now.tzinfo)
    return sorted(
        found,
        key=lambda item: (
            item.next_arrival.starts_at if item.next_arrival else far,
            HealthProblem.OFFLINE not in item.problems,
            item.sample.battery_percent if item.sample.battery_percent is not None else 101,
        ),
    )


def health_history(
    uow: UnitOfWork, caller: Caller, lock_ref: str, since: datetime
) -> tuple[Lock, list[LockHealthSample]]:
    """A lock's health readings from ``since``, oldest first (the last one is its health now)."""
    with uow:
        lock = uow.locks.find(caller.organisation_id, lock_ref)
        if lock is None:
            raise NotFound("lock", lock_ref)
        return lock, uow.access.samples_since(lock.id, since)


def _reading_of(sample: LockHealthSample | None) -> HealthReading | None:
    if sample is None:
        return None
    return HealthReading(sample.online, sample.battery_percent, sample.observed_at)


def _message(
    lock: Lock,
    problem: HealthProblem,
    health: LockHealth,
    arrival: Reservation | None,
    now: datetime,
) -> str:
    if problem is HealthProblem.BATTERY_LOW:
        said = f"{lock.name}: battery {health.battery_percent} %"
    else:
        contact = (
            f", last contact {_ago(now - health.last_contact_at)}"
            if health.last_contact_at is not None
            else ""
        )
        said = f"{lock.name}: offline{contact}"
    if arrival is None:
        return f"{said}; no arrival booked on it"
    zone = zone_named(arrival.property.time_zone)
    who = arrival.guest_name or "a guest"
    when = when_phrase(arrival.starts_at, now, zone)
    return f"{said}; next guest arrives {when} ({who}, {arrival.property.name})"


def _ago(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"
