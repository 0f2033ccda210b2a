"""Staff schedules of an organisation, and the grants that are their windows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from doorcode.store.models import Grant, StaffSchedule

__all__ = ["ScheduleRepository"]


class ScheduleRepository:
    """Staff schedules, always read within their organisation."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, schedule: StaffSchedule) -> None:
        """Stage a new schedule."""
        self._session.add(schedule)

    def get(self, organisation_id: str, schedule_id: str) -> StaffSchedule | None:
        """The schedule with this id, if it belongs to the organisation."""
        query = select(StaffSchedule).where(
            StaffSchedule.id == schedule_id, StaffSchedule.organisation_id == organisation_id
        )
        return self._session.scalar(query.options(selectinload(StaffSchedule.properties)))

    def all(self, organisation_id: str) -> list[StaffSchedule]:
        """The organisation's schedules, live ones first, then by holder."""
        query = select(StaffSchedule).where(StaffSchedule.organisation_id == organisation_id)
        query = query.options(selectinload(StaffSchedule.properties))
        found = self._session.scalars(query.order_by(StaffSchedule.holder, StaffSchedule.id))
        return sorted(found, key=lambda schedule: schedule.revoked_at is not None)

    def grants_of(self, schedule_id: str) -> list[Grant]:
        """The schedule's grants (its windows on each property), soonest first."""
        query = select(Grant).where(Grant.schedule_id == schedule_id)
        query = query.options(selectinload(Grant.lock_codes))
        return list(self._session.scalars(query.order_by(Grant.starts_at, Grant.property_id)))
