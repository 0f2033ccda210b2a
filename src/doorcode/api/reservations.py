"""/reservations: record (create or update), list, show and cancel reservations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.problems import FieldProblem
from doorcode.api.rendering import grant_body, reservation_body
from doorcode.api.schemas import (
    GrantBody,
    ReservationBody,
    ReservationInputBody,
    RevokeBody,
)
from doorcode.domain.errors import InvalidWindow
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services import backup_codes, reservations
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.repositories import ReservationFilter

router = APIRouter(prefix="/reservations", tags=["reservations"])


@router.get("")
def list_reservations(
    runtime: RuntimeDep,
    caller: CallerDep,
    status_is: Annotated[ReservationStatus | None, Query(alias="status")] = None,
    property_id: Annotated[
        str | None, Query(description="Property id, external id or name.")
    ] = None,
    source: str | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[ReservationBody]:
    """Reservations, soonest check-in first."""
    which = ReservationFilter(
        status=status_is.value if status_is else None,
        property_id=property_id,
        source=source,
        limit=limit,
        offset=offset,
    )
    views = reservations.list_reservations(runtime.uow(), caller, which)
    return [reservation_body(view.reservation, view.grant) for view in views]


@router.post(
    "",
    responses={201: {"description": "Created"}, 200: {"description": "Updated or unchanged"}},
    status_code=status.HTTP_200_OK,
)
def record_reservation(
    body: ReservationInputBody, response: Response, runtime: RuntimeDep, caller: CallerDep
) -> ReservationBody:
    """Create or update by (source, external id); the same content twice changes nothing."""
    source = body.source or reservations.source_for(runtime.uow(), caller, body.external_id)
    details = reservations.ReservationDetails(
        source=source,
        external_id=body.external_id,
        property_ref=body.property,
        status=body.status,
        stay=Stay(body.check_in, body.check_out, body.check_in_time, body.check_out_time),
        guest=reservations.Guest(**body.guest.model_dump()),
        booking_reference=body.booking_reference,
    )
    try:
        outcome = reservations.record_reservation(runtime.uow(), caller, details)
    except NotFound as err:
        raise FieldProblem("property", str(err), "unknown_property") from err
    except InvalidWindow as err:
        raise FieldProblem("check_out", str(err), "invalid_window") from err
    if outcome.change is reservations.Change.CREATED:
        response.status_code = status.HTTP_201_CREATED
    return reservation_body(outcome.reservation, outcome.grant, outcome.change.value)


@router.get("/{reservation_id}")
def get_reservation(reservation_id: str, runtime: RuntimeDep, caller: CallerDep) -> ReservationBody:
    """One reservation with its guest grant's id."""
    view = reservations.get_reservation(runtime.uow(), caller, reservation_id)
    return reservation_body(view.reservation, view.grant)


@router.post("/{reservation_id}/cancel")
def cancel_reservation(
    reservation_id: str, runtime: RuntimeDep, caller: CallerDep, body: RevokeBody | None = None
) -> ReservationBody:
    """Cancel; the guest grant is revoked and its codes leave every lock."""
    reason = body.reason if body else ""
    reservations.cancel_reservation(runtime.uow(), caller, reservation_id, reason)
    view = reservations.get_reservation(runtime.uow(), caller, reservation_id)
    return reservation_body(view.reservation, view.grant)


@router.post("/{reservation_id}/backup-code")
def release_backup_code(reservation_id: str, runtime: RuntimeDep, caller: CallerDep) -> GrantBody:
    """Give the guest the property's backup code until check-out (the guest is told)."""
    released = backup_codes.release_backup_code(runtime.uow(), caller, reservation_id)
    if released is None:
        raise InvalidRequest("this property keeps no backup code")
    return grant_body(released, runtime.clock())
