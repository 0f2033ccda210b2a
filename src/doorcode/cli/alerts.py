"""``doorcode alerts``: what needs an operator (a guest about to arrive without a code, ...)."""

from __future__ import annotations

import typer

from doorcode.api.rendering import alert_body
from doorcode.cli.context import JsonOption, print_json, print_table, state_of
from doorcode.services.alerts import list_alerts
from doorcode.store.repositories import AlertFilter


def alerts(
    ctx: typer.Context,
    include_cleared: bool = typer.Option(False, "--all", help="Also alerts that cleared."),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """Open alerts, newest first."""
    state = state_of(ctx)
    which = AlertFilter(include_cleared=include_cleared, limit=limit)
    found = list_alerts(state.runtime().uow(), state.caller(), which)
    if as_json:
        print_json([alert_body(alert) for alert in found])
        return
    rows = [(a.raised_at, a.kind, a.subject_id, a.message, a.cleared_at) for a in found]
    print_table("Alerts", ["raised", "kind", "subject", "message", "cleared"], rows)
