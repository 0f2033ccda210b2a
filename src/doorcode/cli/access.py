"""``doorcode lock log LOCK``: who opened the door, or failed to, and when."""

from __future__ import annotations

import typer

from doorcode.cli.context import JsonOption, parse_instant, print_json, print_table, state_of
from doorcode.domain.windows import zone_named
from doorcode.locks.access_events import AccessOutcome

__all__ = ["lock_log"]


def lock_log(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    outcome: AccessOutcome | None = typer.Option(None, help="Only opened or only refused."),
    since: str | None = typer.Option(None, help="From, ISO 8601 with offset.", metavar="INSTANT"),
    until: str | None = typer.Option(None, help="Before, ISO 8601 with offset.", metavar="INSTANT"),
    limit: int = typer.Option(50, min=1, max=1000, help="How many at most."),
    as_json: bool = JsonOption,
) -> None:
    """The lock's access events, newest first, in its property's time (never a code)."""
    from doorcode.services.access_events import lock_access_events
    from doorcode.store.access_repository import AccessEventFilter

    state = state_of(ctx)
    which = AccessEventFilter(
        outcome=outcome.value if outcome is not None else None,
        since=parse_instant(since, "--since") if since else None,
        until=parse_instant(until, "--until") if until else None,
        limit=limit,
    )
    lock, rows = lock_access_events(state.runtime().uow(), state.caller(), lock_ref, which)
    if as_json:
        from doorcode.api.access_events import access_event_body  # FastAPI loads only for --json

        print_json([access_event_body(row) for row in rows])
        return
    zones = {prop.time_zone for prop in lock.properties}
    zone = zone_named(zones.pop() if len(zones) == 1 else "UTC")
    table = [
        (
            row.occurred_at.astimezone(zone),
            row.outcome,
            (row.reason or "").replace("_", " ") or "–",
            row.method,
            _whose(row.grant.holder or row.grant.kind if row.grant else None, row.code_ref),
        )
        for row in rows
    ]
    print_table(
        f"Access log of {lock.name}", ["when", "outcome", "why", "how", "whose code"], table
    )


def _whose(holder: str | None, code_ref: str | None) -> str:
    if holder is not None:
        return holder
    return "a code doorcode did not set" if code_ref else "–"
