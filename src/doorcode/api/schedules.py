"""/schedules: recurring staff codes, created, changed and revoked as one."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.schemas import Reference, RevokeBody, Strict
from doorcode.services import schedules

__all__ = ["ScheduleBody", "router", "schedule_body"]

router = APIRouter(prefix="/schedules", tags=["schedules"])


class ScheduleRequest(Strict):
    """A schedule as the operator says it: local times on each property's clock."""

    holder: str = Field(min_length=1, max_length=200, examples=["Marta (cleaner)"])
    properties: list[Reference] = Field(min_length=1, max_length=50)
    frequency: Literal["weekly", "daily"]
    weekdays: list[int] = Field(
        default_factory=list, max_length=7, description="0 = Monday … 6 = Sunday (weekly only)"
    )
    starts: time = Field(examples=["10:00"])
    ends: time = Field(examples=["14:00"], description="At or before ``starts``: the next day.")
    first_day: date
    last_day: date
    except_days: list[date] = Field(default_factory=list, max_length=400)


class ScheduleBody(BaseModel):
    """A schedule and where its windows stand."""

    id: str
    holder: str
    summary: str
    properties: list[str]
    frequency: str
    weekdays: list[int]
    starts: time
    ends: time
    first_day: date
    last_day: date
    except_days: list[date]
    revoked: bool
    grant_ids: list[str] = Field(description="The windows not revoked, soonest first.")
    clock_notes: list[str] = Field(
        default_factory=list,
        description="Days whose window a spring-forward change moves, in words.",
    )


class RevokedBody(BaseModel):
    """How many windows a revocation took off the locks."""

    id: str
    windows_revoked: int


@router.get("")
def list_schedules(runtime: RuntimeDep, caller: CallerDep) -> list[ScheduleBody]:
    """Every schedule, live ones first."""
    return [schedule_body(view) for view in schedules.list_schedules(runtime.uow(), caller)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_schedule(body: ScheduleRequest, runtime: RuntimeDep, caller: CallerDep) -> ScheduleBody:
    """Create the schedule; each window becomes a staff grant on each property's locks."""
    made = schedules.create_schedule(runtime.uow(), caller, _details(body))
    return schedule_body(schedules.get_schedule(runtime.uow(), caller, made.id))


@router.get("/{schedule_id}")
def get_schedule(schedule_id: str, runtime: RuntimeDep, caller: CallerDep) -> ScheduleBody:
    """One schedule."""
    return schedule_body(schedules.get_schedule(runtime.uow(), caller, schedule_id))


@router.put("/{schedule_id}")
def change_schedule(
    schedule_id: str, body: ScheduleRequest, runtime: RuntimeDep, caller: CallerDep
) -> ScheduleBody:
    """Replace the schedule: windows that stay keep their code, others go or come."""
    schedules.change_schedule(runtime.uow(), caller, schedule_id, _details(body))
    return schedule_body(schedules.get_schedule(runtime.uow(), caller, schedule_id))


@router.post("/{schedule_id}/revoke")
def revoke_schedule(
    schedule_id: str, body: RevokeBody, runtime: RuntimeDep, caller: CallerDep
) -> RevokedBody:
    """Revoke the schedule and every window not over yet."""
    count = schedules.revoke_schedule(runtime.uow(), caller, schedule_id, body.reason)
    return RevokedBody(id=schedule_id, windows_revoked=count)


def _details(body: ScheduleRequest) -> schedules.ScheduleDetails:
    return schedules.ScheduleDetails(
        holder=body.holder,
        property_refs=tuple(body.properties),
        frequency=schedules.Frequency(body.frequency),
        starts=body.starts,
        ends=body.ends,
        first_day=body.first_day,
        last_day=body.last_day,
        weekdays=frozenset(body.weekdays),
        except_days=frozenset(body.except_days),
    )


def schedule_body(view: schedules.ScheduleView) -> ScheduleBody:
    """A schedule as the API and ``doorcode schedule list --json`` show it."""
    details = view.details
    return ScheduleBody(
        id=view.schedule.id,
        holder=details.holder,
        summary=details.summary,
        properties=list(view.property_names),
        frequency=details.frequency.value,
        weekdays=sorted(details.weekdays),
        starts=details.starts,
        ends=details.ends,
        first_day=details.first_day,
        last_day=details.last_day,
        except_days=sorted(details.except_days),
        revoked=view.schedule.revoked_at is not None,
        grant_ids=[grant.id for grant in view.live_grants],
        clock_notes=list(view.notes),
    )
