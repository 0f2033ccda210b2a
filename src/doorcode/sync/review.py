"""After a pass: is each affected grant's code on every lock, and should anyone be alerted?

``GrantCodesSet`` is announced once per grant version, when every lock holds what the guest
will type there: the PIN on a lock programmed online, the offline code on an offline keypad,
or an offline code standing in for a PIN an online lock missed (``offline_fallback.py``). The
PMS push (``sources/pms_push.py``) and guest messages (``notify/``) act on it. An alert is
open while a grant that starts within ``alert_before`` (24 h by default), or has started,
lacks its PIN on an online lock for any reason but "its lead time has not come" (a lock that
does not answer counts as lacking it); it is cleared when the grant converges, ends or is
revoked.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from doorcode.domain.lock_code_status import LockCodeFacts, LockCodeStatus, lock_code_status
from doorcode.store.lock_sync import GrantLockState
from doorcode.store.models import Alert
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.offline_fallback import issue_fallback
from doorcode.sync.outcomes import EventDraft

__all__ = ["GRANT_CODE_MISSING", "review_grants", "status_of"]

GRANT_CODE_MISSING = "GrantCodeMissing"
_FINE = {LockCodeStatus.SET, LockCodeStatus.WAITING_FOR_LEAD_TIME, LockCodeStatus.NOT_PROGRAMMABLE}


def review_grants(
    uow: UnitOfWork,
    grant_ids: Collection[str],
    if_alerted: Collection[str],
    now: datetime,
    alert_before: timedelta,
) -> list[EventDraft]:
    """Announce converged grants and raise or clear alerts; returns the events to record.

    ``grant_ids`` are reviewed; ``if_alerted`` only when they have an open alert to clear.
    """
    alerts = uow.alerts.open_for(GRANT_CODE_MISSING, {*grant_ids, *if_alerted})
    states = uow.lock_sync.grant_states({*grant_ids, *alerts})
    events: list[EventDraft] = []
    for grant_id, found in states.items():
        rows, fallbacks = _fall_back_to_offline_codes(uow, found, now, alert_before)
        events += fallbacks
        events += _announce_if_set(uow, rows, now)
        events += _alert(uow, rows, alerts.get(grant_id), now, alert_before)
    return events


def status_of(row: GrantLockState) -> LockCodeStatus:
    """The status of one lock code of a grant."""
    state = row.state
    facts = LockCodeFacts(
        state.desired,
        state.actual,
        state.wait_reason,
        state.confirmed_version,
        state.last_error,
        visited=True,
        accepted_version=state.accepted_version,
    )
    return lock_code_status(facts, row.grant_version)


def _announce_if_set(
    uow: UnitOfWork, rows: Sequence[GrantLockState], now: datetime
) -> list[EventDraft]:
    grant = rows[0]
    programmable = [row for row in rows if row.programmable]
    offline = [row for row in rows if not row.programmable and row.offline_capable]
    if not (programmable or offline) or not _is_live(grant, now):
        return []
    if grant.codes_set_version == grant.grant_version:
        return []
    if any(not _holds_the_code(row) for row in programmable):
        return []
    if any(not _carries_current_offline_code(row) for row in offline):
        return []
    uow.lock_sync.mark_codes_set(grant.grant_id, grant.grant_version)
    ready = programmable + offline
    after = {"version": grant.grant_version, "locks": sorted(row.lock_id for row in ready)}
    details = {"after": after}  # the audit log's before/after shape, as every event has
    return [
        EventDraft(grant.organisation_id, "GrantCodesSet", ("grant", grant.grant_id), "", details)
    ]


def _fall_back_to_offline_codes(
    uow: UnitOfWork, rows: Sequence[GrantLockState], now: datetime, alert_before: timedelta
) -> tuple[list[GrantLockState], list[EventDraft]]:
    """Issue offline codes where an online lock missed a PIN the guest needs soon.

    Returns the rows as they now stand, and the events of the codes issued.
    """
    grant = rows[0]
    if grant.spare or not _due_soon(grant, now, alert_before):
        return list(rows), []
    updated, events = [], []
    for row in rows:
        if _needs_fallback(row):
            event = issue_fallback(uow, row)
            if event is not None:
                events.append(event)
                row = replace(row, has_offline_code=True)
        updated.append(row)
    return updated, events


def _needs_fallback(row: GrantLockState) -> bool:
    """An online lock able to check offline codes, in a key group, without the grant's PIN."""
    return (
        row.programmable
        and row.offline_capable
        and row.offline_key_group_id is not None
        and not row.has_offline_code
        and status_of(row) is not LockCodeStatus.SET
    )


def _holds_the_code(row: GrantLockState) -> bool:
    """An online lock holds the grant's PIN, or a code stands in for it (an offline code, a
    vendor's backup code)."""
    return status_of(row) is LockCodeStatus.SET or row.has_offline_code


def _is_missing(row: GrantLockState) -> bool:
    """The grant's PIN is not on this online lock, and nothing says it is on its way.

    A lock that does not answer keeps the rows of its last successful pass, which may still
    say "waiting for lead time"; while its sync fails, only a code already set is fine.
    """
    status = status_of(row)
    if row.lock_error:
        return status is not LockCodeStatus.SET
    return status not in _FINE


def _carries_current_offline_code(row: GrantLockState) -> bool:
    """An offline keypad is ready once the grant's lock code holds this version's offline code."""
    return row.has_offline_code and row.state.confirmed_version == row.grant_version


def _alert(
    uow: UnitOfWork,
    rows: Sequence[GrantLockState],
    alert: Alert | None,
    now: datetime,
    alert_before: timedelta,
) -> list[EventDraft]:
    grant = rows[0]
    missing = [row for row in rows if row.programmable and _is_missing(row)]
    needed = bool(missing) and _due_soon(grant, now, alert_before) and not grant.spare
    subject = ("grant", grant.grant_id)
    if needed:
        message = _message(grant, missing)
        if alert is not None:
            alert.message, alert.updated_at = message, now
            return []
        uow.alerts.add(
            Alert(
                organisation_id=grant.organisation_id,
                kind=GRANT_CODE_MISSING,
                subject_type=subject[0],
                subject_id=subject[1],
                message=message,
                raised_at=now,
                updated_at=now,
            )
        )
        return [EventDraft(grant.organisation_id, "AlertRaised", subject, message)]
    if alert is not None:
        alert.cleared_at = alert.updated_at = now
        return [
            EventDraft(
                grant.organisation_id,
                "AlertCleared",
                subject,
                "the code is on every lock or no longer needed",
            )
        ]
    return []


def _message(grant: GrantLockState, missing: Sequence[GrantLockState]) -> str:
    who = grant.holder or grant.grant_id
    where = "; ".join(
        f"{row.lock_name} ({_why(row)})" for row in sorted(missing, key=lambda r: r.lock_name)
    )
    start = grant.starts_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"the code of {who} (from {start}) is not on: {where}"[:1000]


def _why(row: GrantLockState) -> str:
    status = status_of(row)
    if status is LockCodeStatus.FAILED and row.state.last_error:
        return f"failed: {row.state.last_error}"
    if status is LockCodeStatus.ACCEPTED:
        return "accepted by the back-end but not confirmed by the lock"
    if row.lock_error:
        return f"{status.value.replace('_', ' ')}; the lock: {row.lock_error}"
    return status.value.replace("_", " ")


def _is_live(grant: GrantLockState, now: datetime) -> bool:
    return grant.revoked_at is None and grant.ends_at > now


def _due_soon(grant: GrantLockState, now: datetime, alert_before: timedelta) -> bool:
    """Live and starting within ``alert_before``: a guest will need it soon."""
    return _is_live(grant, now) and grant.starts_at - alert_before <= now
