"""The guest's guidebook: one reservation, found by its link's token, and what the guest reports.

The token (192 random bits) is the guest's only credential, so the database keeps only its
digest and an encrypted copy (``ReservationRepository``). Whatever the lookup finds, the
guidebook shows that one reservation and nothing else; an unknown token, a cancelled stay
and one long over all get the same ``GuideNotFound``, and each such miss counts toward the
client address's limit (``services.throttling``), past which every lookup from it is
refused unchecked for a while.

Codes are shown only inside the property's reveal window (``domain.guidebook``). The first
time a grant's current version is shown, a ``GuidebookCodesShown`` event records it.

A guest can say they arrived, that they left, or that their code does not work. Each report
is an audit event and a notice to the host (``services.host_notices``). A code problem also
raises an alert, and releases a backup code when the property has one; the guest then sees
it in the guidebook. Those calls act for the guest with a manager's rights, but only ever
on the reservation the token named.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.errors import DomainError
from doorcode.domain.guidebook import GuideStage, GuideTiming
from doorcode.domain.host_notices import HostNoticeKind
from doorcode.domain.messages import ChannelName
from doorcode.domain.windows import TimeWindow, zone_named
from doorcode.services.access_codes import AccessCode, access_codes_of
from doorcode.services.alerts import raise_alert
from doorcode.services.audit import record_event
from doorcode.services.backup_codes import release_backup_code, released_backup_of
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import InvalidRequest, ServiceError
from doorcode.services.guide_pages import GuidePages, guide_pages_of
from doorcode.services.host_contact import HostContact
from doorcode.services.host_notices import notify_host
from doorcode.services.lock_sync import lock_code_status_of
from doorcode.services.throttling import (
    GUIDEBOOK_PER_ADDRESS,
    blocked_until,
    record_failure,
)
from doorcode.store.models import Event, Grant, Reservation
from doorcode.store.repositories import EventFilter
from doorcode.store.row_holds import hold_row
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "ALERT_CODE_PROBLEM",
    "BackupReleaser",
    "CodeProblemOutcome",
    "GuideNotFound",
    "GuideThrottled",
    "GuideView",
    "open_guidebook",
    "report_arrival",
    "report_code_problem",
    "report_departure",
]

logger = logging.getLogger(__name__)

ALERT_CODE_PROBLEM = "GuestReportedCodeProblem"
CODES_SHOWN = "GuidebookCodesShown"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REPEAT_PROBLEM_AFTER = timedelta(minutes=5)

BackupReleaser = Callable[[UnitOfWork, Caller, str], Grant | None]
"""``release_backup_code(uow, caller, reservation_id)``: the released backup grant, or None."""


class GuideNotFound(ServiceError):
    """No guidebook behind this link (unknown, cancelled or long over: never saying which)."""

    def __init__(self) -> None:
        super().__init__("this link does not lead to a stay")


class GuideThrottled(ServiceError):
    """Too many links that lead nowhere from this address; nothing is looked up until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many unknown links from this address: try again later")
        self.until = until


@dataclass(frozen=True, slots=True)
class GuideView:
    """Everything one guidebook page shows; nothing in it is about another stay."""

    guest_name: str
    property_name: str
    property_address: str
    zone: ZoneInfo
    check_in: datetime
    check_out: datetime
    stage: GuideStage
    reveal_at: datetime
    codes: list[AccessCode] = field(repr=False)
    backup_codes: list[AccessCode] = field(repr=False)
    host: HostContact
    arrived_at: datetime | None
    left_at: datetime | None
    problem_reported_at: datetime | None
    may_report_arrival: bool
    may_report_departure: bool
    language: str = "en"
    pages: GuidePages | None = None

    @property
    def may_report_problem(self) -> bool:
        """A code problem can be reported while the codes are shown."""
        return self.stage in (GuideStage.READY, GuideStage.STAYING)


@dataclass(frozen=True, slots=True)
class CodeProblemOutcome:
    """What reporting a code problem did: whether a backup code is now in the guidebook."""

    backup_released: bool


def open_guidebook(uow: UnitOfWork, token: str, client_address: str) -> GuideView:
    """The guidebook behind ``token``; ``GuideNotFound`` or ``GuideThrottled`` otherwise."""
    with uow:
        reservation = _find(uow, token, client_address)
        view = _view(uow, reservation)
        if view.codes:
            _note_codes_shown(uow, reservation)
        uow.commit()
        return view


def report_arrival(
    uow: UnitOfWork, token: str, client_address: str, channels: Collection[ChannelName]
) -> None:
    """The guest says they are in: recorded once, and the host is told."""
    with uow:
        reservation = _find(uow, token, client_address)
        timing = _timing(uow, reservation)
        if not timing.may_report_arrival(reservation.status, uow.now):
            zone = zone_named(reservation.property.time_zone)
            raise InvalidRequest(
                "arrival can be reported from check-in "
                f"({_local(timing.window.starts_at, zone)}) until check-out"
            )
        # A code problem the guest reported stays open: saying "I am in" does not tell the
        # host the code works (a neighbour may have let them in). The operator clears it, or
        # a door opening with the guest's code does. The row is held as the door's first
        # opening holds it, so the button and the door never both record the arrival.
        hold_row(uow.session, Reservation.id, reservation.id)
        if _latest(uow, reservation, HostNoticeKind.GUEST_ARRIVED) is None:
            _report(uow, reservation, HostNoticeKind.GUEST_ARRIVED, channels)
        uow.commit()


def report_departure(
    uow: UnitOfWork, token: str, client_address: str, channels: Collection[ChannelName]
) -> None:
    """The guest says they have left: recorded once, and the host is told."""
    with uow:
        reservation = _find(uow, token, client_address)
        if not _timing(uow, reservation).may_report_departure(reservation.status, uow.now):
            raise InvalidRequest("leaving can be reported from check-in until shortly after")
        if _latest(uow, reservation, HostNoticeKind.GUEST_LEFT) is None:
            _report(uow, reservation, HostNoticeKind.GUEST_LEFT, channels)
        uow.commit()


def report_code_problem(
    uow: UnitOfWork,
    token: str,
    client_address: str,
    channels: Collection[ChannelName],
    release_backup: BackupReleaser = release_backup_code,
) -> CodeProblemOutcome:
    """The code does not open the door: release a backup code if any, alert and tell the host.

    A second report within a few minutes changes nothing: the host was just told.
    """
    with uow:
        reservation = _find(uow, token, client_address)
        view = _view(uow, reservation)
        if not view.may_report_problem:
            raise InvalidRequest("a code problem can be reported while the code is shown")
        latest = _latest(uow, reservation, HostNoticeKind.CODE_PROBLEM)
        if latest is not None and uow.now - latest.occurred_at < REPEAT_PROBLEM_AFTER:
            return CodeProblemOutcome(bool(view.backup_codes))
        reservation_id, organisation_id = reservation.id, reservation.organisation_id
    caller = _guest(organisation_id, reservation_id, Role.MANAGER)
    backup = _release(uow, caller, reservation_id, release_backup)
    with uow:
        reservation = _find(uow, token, client_address)
        released = backup is not None or bool(_backup_grants(uow, reservation))
        _report(uow, reservation, HostNoticeKind.CODE_PROBLEM, channels, released)
        raise_alert(
            uow,
            reservation.organisation_id,
            ALERT_CODE_PROBLEM,
            _subject(reservation),
            f"{reservation.guest_name or 'the guest'} reports the code for "
            f"{reservation.property.name} does not work"
            + (" (a backup code was released)" if released else " (no backup code)"),
        )
        uow.commit()
        return CodeProblemOutcome(released)


def _find(uow: UnitOfWork, token: str, client_address: str) -> Reservation:
    """The reservation behind a live link, counting misses against the address."""
    subjects = [GUIDEBOOK_PER_ADDRESS.subject("address", client_address)]
    until = blocked_until(uow, subjects)
    if until is not None:
        raise GuideThrottled(until)
    found = uow.reservations.by_guide_token(token) if TOKEN.match(token) else None
    if found is None or _timing(uow, found).stage(found.status, uow.now) is GuideStage.EXPIRED:
        record_failure(uow, subjects)
        uow.commit()
        raise GuideNotFound
    return found


def _view(uow: UnitOfWork, reservation: Reservation) -> GuideView:
    timing = _timing(uow, reservation)
    stage = timing.stage(reservation.status, uow.now)
    grant = _guest_grant(uow, reservation)
    live = grant is not None and grant.revoked_at is None
    showing = stage in (GuideStage.READY, GuideStage.STAYING) and live
    organisation = uow.organisations.get(reservation.organisation_id)
    assert organisation is not None
    arrived = _latest(uow, reservation, HostNoticeKind.GUEST_ARRIVED)
    left = _latest(uow, reservation, HostNoticeKind.GUEST_LEFT)
    problem = _latest(uow, reservation, HostNoticeKind.CODE_PROBLEM)
    prop = reservation.property
    return GuideView(
        guest_name=reservation.guest_name,
        property_name=prop.name,
        property_address=prop.address,
        zone=zone_named(prop.time_zone),
        check_in=timing.window.starts_at,
        check_out=timing.window.ends_at,
        stage=stage,
        reveal_at=timing.reveal_at,
        codes=access_codes_of(uow, grant) if showing and grant is not None else [],
        backup_codes=_backup_codes(uow, reservation) if showing else [],
        host=HostContact(
            organisation.host_name or organisation.name,
            organisation.host_email,
            organisation.host_phone,
        ),
        arrived_at=arrived.occurred_at if arrived else None,
        left_at=left.occurred_at if left else None,
        problem_reported_at=problem.occurred_at if problem else None,
        may_report_arrival=arrived is None
        and timing.may_report_arrival(reservation.status, uow.now),
        may_report_departure=left is None
        and timing.may_report_departure(reservation.status, uow.now),
        language=(reservation.guest_locale or "en").replace("_", "-").split("-")[0].lower(),
        pages=guide_pages_of(prop),
    )


def _timing(uow: UnitOfWork, reservation: Reservation) -> GuideTiming:
    """The stay's window (the guest grant's, which may give early access) and reveal rule."""
    grant = _guest_grant(uow, reservation)
    if grant is not None and grant.revoked_at is None:
        window = TimeWindow(grant.starts_at, grant.ends_at)
    else:
        window = TimeWindow(reservation.starts_at, reservation.ends_at)
    return GuideTiming(window, reservation.property.code_reveal_hours)


def _guest_grant(uow: UnitOfWork, reservation: Reservation) -> Grant | None:
    return uow.grants.guest_grant_of(reservation.id)


def _backup_grants(uow: UnitOfWork, reservation: Reservation) -> list[Grant]:
    """The backup code released to this stay, while it lasts."""
    released = released_backup_of(uow, reservation)
    return [released] if released is not None and released.ends_at > uow.now else []


def _backup_codes(uow: UnitOfWork, reservation: Reservation) -> list[AccessCode]:
    return [
        code for grant in _backup_grants(uow, reservation) for code in access_codes_of(uow, grant)
    ]


def _release(
    uow: UnitOfWork, caller: Caller, reservation_id: str, release_backup: BackupReleaser
) -> Grant | None:
    """A backup code for the guest, if the property has one; a refusal is just "none"."""
    try:
        return release_backup(uow, caller, reservation_id)
    except (ServiceError, DomainError) as err:
        logger.warning("no backup code released for reservation %s: %s", reservation_id, err)
        return None


def _note_codes_shown(uow: UnitOfWork, reservation: Reservation) -> None:
    grant = _guest_grant(uow, reservation)
    if grant is None or grant.revoked_at is not None:
        return
    which = EventFilter(subject_type="grant", subject_id=grant.id, kind=CODES_SHOWN, limit=50)
    shown = uow.events.search(reservation.organisation_id, which)
    if any(event.details.get("after", {}).get("version") == grant.version for event in shown):
        return
    caller = _guest(reservation.organisation_id, reservation.id, Role.VIEWER)
    after = {"version": grant.version}
    record_event(
        uow, caller, ("grant", grant.id), CODES_SHOWN, "shown in the guidebook", after=after
    )


def _report(
    uow: UnitOfWork,
    reservation: Reservation,
    kind: HostNoticeKind,
    channels: Collection[ChannelName],
    backup_released: bool = False,
) -> None:
    caller = _guest(reservation.organisation_id, reservation.id, Role.VIEWER)
    details = {"backup_released": backup_released} if kind is HostNoticeKind.CODE_PROBLEM else None
    record_event(
        uow, caller, _subject(reservation), kind.event_kind, "from the guidebook", after=details
    )
    notify_host(
        uow, reservation, kind, _notice_text(uow, reservation, kind, backup_released), channels
    )


def _notice_text(
    uow: UnitOfWork, reservation: Reservation, kind: HostNoticeKind, backup_released: bool
) -> str:
    """What the host reads; it names the stay and never holds a code."""
    prop = reservation.property
    zone = zone_named(prop.time_zone)
    guest = reservation.guest_name or "Your guest"
    said = {
        HostNoticeKind.GUEST_ARRIVED: f"{guest} has arrived at {prop.name}.",
        HostNoticeKind.GUEST_LEFT: f"{guest} has left {prop.name}.",
        HostNoticeKind.CODE_PROBLEM: f"{guest} says the door code for {prop.name} does not work.",
    }[kind]
    lines = [said, ""]
    if kind is HostNoticeKind.CODE_PROBLEM:
        lines.append(
            "A backup code was released to them in their guidebook."
            if backup_released
            else "There is no backup code: they were shown your contact details. Please call them."
        )
        lines.extend(_lock_lines(uow, reservation))
        contact = [value for value in (reservation.guest_phone, reservation.guest_email) if value]
        if contact:
            lines.append(f"Guest contact: {', '.join(contact)}")
        lines.append("")
    lines.append(
        f"Booking {reservation.external_id} ({reservation.source}): "
        f"{_local(reservation.starts_at, zone)} to {_local(reservation.ends_at, zone)}."
    )
    lines.append(f"Reported in the guidebook at {_local(uow.now, zone)}.")
    return "\n".join(lines)


def _lock_lines(uow: UnitOfWork, reservation: Reservation) -> list[str]:
    grant = _guest_grant(uow, reservation)
    if grant is None:
        return []
    lines = ["Where the code stands on each lock:"]
    for lock_code in sorted(grant.lock_codes, key=lambda code: code.lock.name):
        status = lock_code_status_of(lock_code, grant.version).value.replace("_", " ")
        error = f" ({lock_code.last_error})" if lock_code.last_error else ""
        lines.append(f"  {lock_code.lock.name}: {status}{error}")
    return lines


def _latest(uow: UnitOfWork, reservation: Reservation, kind: HostNoticeKind) -> Event | None:
    which = EventFilter(
        subject_type="reservation", subject_id=reservation.id, kind=kind.event_kind, limit=1
    )
    found = uow.events.search(reservation.organisation_id, which)
    return found[0] if found else None


def _guest(organisation_id: str, reservation_id: str, role: Role) -> Caller:
    return Caller(organisation_id, f"guest:{reservation_id}", role)


def _subject(reservation: Reservation) -> tuple[str, str]:
    return ("reservation", reservation.id)


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")
