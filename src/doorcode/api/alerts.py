"""/alerts: what an operator must look at (a guest about to arrive without a code, ...)."""

from __future__ import annotations

from fastapi import APIRouter

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.rendering import alert_body
from doorcode.api.schemas import AlertBody
from doorcode.services.alerts import list_alerts
from doorcode.store.repositories import AlertFilter

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def alerts(
    runtime: RuntimeDep,
    caller: CallerDep,
    include_cleared: bool = False,
    subject_id: str | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[AlertBody]:
    """Open alerts, newest first; ``include_cleared`` adds the resolved ones."""
    which = AlertFilter(include_cleared, subject_id, limit, offset)
    return [alert_body(alert) for alert in list_alerts(runtime.uow(), caller, which)]
