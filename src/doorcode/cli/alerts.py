"""``doorcode alerts``: what needs an operator (a guest about to arrive without a code, ...)."""

from __future__ import annotations

import typer

from doorcode.cli.context import JsonOption, print_json, print_table, state_of
from doorcode.cli.names import local_time
from doorcode.services.dashboard import alert_lines, display_zone
from doorcode.services.properties import list_properties
from doorcode.store.repositories import AlertFilter


def alerts(
    ctx: typer.Context,
    include_cleared: bool = typer.Option(False, "--all", help="Also alerts that cleared."),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """Open alerts, newest first, each on its property's clock and named."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    which = AlertFilter(include_cleared=include_cleared, limit=limit)
    found = alert_lines(runtime.uow(), caller, which)
    if as_json:
        from doorcode.api.rendering import alert_body  # FastAPI loads only for --json

        print_json([alert_body(line.alert) for line in found])
        return
    fallback = display_zone(list_properties(runtime.uow(), caller))
    rows = [
        (
            local_time(line.alert.raised_at, line.subject.zone or fallback),
            line.alert.kind,
            line.subject.label,
            line.alert.message,
            local_time(line.alert.cleared_at, line.subject.zone or fallback),
        )
        for line in found
    ]
    print_table("Alerts", ["raised", "kind", "about", "message", "cleared"], rows)
