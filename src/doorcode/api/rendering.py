"""Stored rows to response bodies; the one place the API reads row attributes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from doorcode.api.schemas import (
    AlertBody,
    EventBody,
    GrantBody,
    GrantLockCodeBody,
    GuestBody,
    LockBody,
    LockCodeBody,
    LockCodesBody,
    LockHealthBody,
    LockSyncBody,
    PropertyBody,
    ReservationBody,
)
from doorcode.domain.code_policy import Alphabet
from doorcode.domain.grants import GrantState
from doorcode.domain.reservations import ReservationStatus
from doorcode.services.grants import state_of
from doorcode.services.lock_sync import LockCodesView, lock_code_status_of
from doorcode.store.models import Alert, Event, Grant, Lock, LockCode, Property, Reservation

__all__ = [
    "alert_body",
    "event_body",
    "grant_body",
    "lock_body",
    "lock_codes_body",
    "property_body",
    "reservation_body",
]


def property_body(prop: Property) -> PropertyBody:
    """A property for the API."""
    return PropertyBody(
        id=prop.id,
        name=prop.name,
        external_id=prop.external_id,
        time_zone=prop.time_zone,
        check_in_time=prop.check_in_time,
        check_out_time=prop.check_out_time,
        code_length=prop.code_length,
        code_alphabet=Alphabet(prop.code_alphabet),
        native_lead_minutes=prop.native_lead_minutes,
        unscheduled_lead_minutes=prop.unscheduled_lead_minutes,
        lock_ids=[lock.id for lock in prop.locks],
        address=prop.address,
        code_reveal_hours=prop.code_reveal_hours,
        backup_codes=prop.backup_codes,
        arrival_notices=prop.arrival_notices,
        no_show_time=prop.no_show_time,
        turnover_holder=prop.turnover_holder,
        turnover_max_hours=prop.turnover_max_hours,
    )


def lock_body(lock: Lock) -> LockBody:
    """A lock for the API."""
    return LockBody(
        id=lock.id,
        name=lock.name,
        provider=lock.provider,
        account_id=lock.account_id,
        external_id=lock.external_id,
        capabilities=lock.capabilities,
        property_ids=[prop.id for prop in lock.properties],
        sync=LockSyncBody(
            synced_at=lock.synced_at,
            next_sync_at=lock.next_sync_at,
            error=lock.sync_error,
            unmanaged_codes=len(lock.unmanaged_codes or []),
        ),
        health=LockHealthBody(
            online=lock.health_online,
            battery_percent=lock.health_battery,
            last_contact_at=lock.health_contact_at,
            checked_at=lock.health_checked_at,
        ),
    )


def lock_codes_body(view: LockCodesView) -> LockCodesBody:
    """A lock with where each of its grants' codes stands; never a code."""
    return LockCodesBody(
        lock=lock_body(view.lock),
        codes=[
            LockCodeBody(
                grant_id=code.grant.id,
                kind=code.grant.kind,
                holder=code.grant.holder,
                starts_at=code.grant.starts_at,
                ends_at=code.grant.ends_at,
                revoked_at=code.grant.revoked_at,
                status=code.status.value,
                desired=_side(code.lock_code.desired),
                actual=_side(code.lock_code.actual),
                provider_code_id=code.lock_code.provider_code_id,
                attempts=code.lock_code.attempts,
                last_error=code.lock_code.last_error,
                next_attempt_at=code.lock_code.next_attempt_at,
                updated_at=code.lock_code.updated_at,
            )
            for code in view.codes
        ],
    )


def reservation_body(
    reservation: Reservation, grant: Grant | None, change: str | None = None
) -> ReservationBody:
    """A reservation for the API, with its guest grant's id."""
    return ReservationBody(
        id=reservation.id,
        source=reservation.source,
        external_id=reservation.external_id,
        property_id=reservation.property_id,
        status=ReservationStatus(reservation.status),
        check_in=reservation.check_in,
        check_out=reservation.check_out,
        check_in_time=reservation.check_in_at,
        check_out_time=reservation.check_out_at,
        starts_at=reservation.starts_at,
        ends_at=reservation.ends_at,
        guest=GuestBody.model_construct(
            name=reservation.guest_name,
            email=reservation.guest_email,
            phone=reservation.guest_phone,
            locale=reservation.guest_locale,
            count=reservation.guest_count,
        ),
        grant_id=grant.id if grant is not None else None,
        booking_reference=reservation.booking_reference,
        change=change,
    )


def grant_body(grant: Grant, now: datetime) -> GrantBody:
    """A grant for the API, its state read off the clock; never its code."""
    return GrantBody(
        id=grant.id,
        kind=grant.kind,
        holder=grant.holder,
        state=state_of(grant, now).value,
        reservation_id=grant.reservation_id,
        property_id=grant.property_id,
        lock_ids=[lock_code.lock_id for lock_code in grant.lock_codes],
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        version=grant.version,
        lock_codes=[
            _grant_lock_code(code, grant.version, state_of(grant, now) in LIVE_STATES)
            for code in grant.lock_codes
        ],
    )


LIVE_STATES = (GrantState.SCHEDULED, GrantState.ACTIVE)
"""A grant in these states still wants its code on its locks."""


def _grant_lock_code(code: LockCode, version: int, live: bool) -> GrantLockCodeBody:
    return GrantLockCodeBody(
        lock_id=code.lock_id,
        status=lock_code_status_of(code, version, live).value,
        attempts=code.attempts,
        last_error=code.last_error,
        next_attempt_at=code.next_attempt_at,
        updated_at=code.updated_at,
    )


def _side(value: str) -> Literal["present", "absent"]:
    return "present" if value == "present" else "absent"


def alert_body(alert: Alert) -> AlertBody:
    """An alert for the API."""
    return AlertBody(
        id=alert.id,
        kind=alert.kind,
        subject_type=alert.subject_type,
        subject_id=alert.subject_id,
        message=alert.message,
        raised_at=alert.raised_at,
        updated_at=alert.updated_at,
        cleared_at=alert.cleared_at,
    )


def event_body(event: Event) -> EventBody:
    """An audit event for the API."""
    return EventBody(
        id=event.id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        kind=event.kind,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        reason=event.reason,
        details=event.details,
    )
