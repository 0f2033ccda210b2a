"""``doorcode grant`` and ``doorcode events``: codes, and the audit trail behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from doorcode.cli.context import JsonOption, parse_instant, print_json, print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import Names, local_time, names_of
from doorcode.cli.terminal_text import say
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.services import grants
from doorcode.services.events import list_events
from doorcode.services.locks import find_lock
from doorcode.services.properties import find_property
from doorcode.store.repositories import EventFilter, GrantFilter

if TYPE_CHECKING:  # the API's bodies load only for --json and show (start-up time)
    from doorcode.api.schemas import GrantBody

grant_app = typer.Typer(
    help="Grants: who may open which locks, with which code, when.", no_args_is_help=True
)


@grant_app.command("list", cls=PlainCommand)
def grant_list(
    ctx: typer.Context,
    kind: GrantKind | None = typer.Option(None, help="guest, staff, master, backup or manual."),
    reservation: str | None = typer.Option(None, help="Only this reservation's grants."),
    property_ref: str | None = typer.Option(
        None,
        "--property",
        help="Only this property's grants (id, external id or name).",
        metavar="PROPERTY",
    ),
    lock: str | None = typer.Option(None, help="Only grants on this lock (id or name)."),
    show_all: bool = typer.Option(
        False, "--all", help="Also the grants that ended or were revoked."
    ),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """List current and upcoming grants, soonest start first (codes are never listed)."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    now = runtime.clock()
    # An empty or unknown filter is a mistake to name, not "no filter" or "nothing found".
    if reservation is not None:
        # Here, not at the top: the reservations service pulls in messages and turnovers,
        # which every `grant list` would pay for at start-up.
        from doorcode.services.reservations import get_reservation

        get_reservation(runtime.uow(), caller, reservation)
    which = GrantFilter(
        kind=kind.value if kind else None,
        reservation_id=reservation,
        property_id=None
        if property_ref is None
        else find_property(runtime.uow(), caller, property_ref).id,
        lock_id=None if lock is None else find_lock(runtime.uow(), caller, lock).id,
        include_revoked=show_all,
        ending_after=None if show_all else now,
        limit=limit,
    )
    found = grants.list_grants(runtime.uow(), caller, which)
    if as_json:
        from doorcode.api.rendering import grant_body

        print_json([grant_body(grant, now) for grant in found])
        return
    names = names_of(state)
    rows = [
        (
            g.id,
            g.kind,
            g.holder,
            names.property(g.property_id),
            grants.state_of(g, now).value,
            local_time(g.starts_at, names.zone(g.property_id)),
            local_time(g.ends_at, names.zone(g.property_id)),
            ", ".join(names.lock(code.lock_id) for code in g.lock_codes),
        )
        for g in found
    ]
    columns = ["id", "kind", "holder", "property", "state", "from", "to", "locks"]
    print_table("Grants" if show_all else "Current and upcoming grants", columns, rows)


@grant_app.command("show", cls=PlainCommand)
def grant_show(
    ctx: typer.Context,
    grant_id: str,
    reveal: bool = typer.Option(False, help="Also print the code (recorded in the audit log)."),
    as_json: bool = JsonOption,
) -> None:
    """Show one grant, on its property's clock; --reveal prints its code."""
    from doorcode.api.rendering import grant_body

    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    body = grant_body(grants.get_grant(runtime.uow(), caller, grant_id), runtime.clock())
    access = grants.reveal_access(runtime.uow(), caller, grant_id) if reveal else None
    if as_json:
        print_json(body)
    else:
        _print_grant(body, names_of(state))
    if access is not None:
        say(f"code: {access.code}")
        zone = names_of(state).zone(body.property_id)
        for lock in access.offline:
            starts, ends = (
                local_time(lock.window.starts_at, zone),
                local_time(lock.window.ends_at, zone),
            )
            opens = f"{starts} to {ends}"
            by = f", from {lock.vendor}" if lock.vendor else ""
            say(f"offline code for {lock.lock_name}: {lock.code} (opens {opens}{by})")
            for rule in lock.rules:
                say(f"  {rule}")


def _print_grant(body: GrantBody, names: Names) -> None:
    """The grant as an operator reads it: names, local times, one line per lock."""
    zone = names.zone(body.property_id)
    fields = [
        ("grant", body.id),
        ("kind", body.kind),
        ("holder", body.holder or "–"),
        ("state", body.state),
        ("property", names.property(body.property_id) or "–"),
        ("reservation", body.reservation_id or "–"),
        ("from", local_time(body.starts_at, zone)),
        ("to", local_time(body.ends_at, zone)),
        ("version", str(body.version)),
    ]
    if body.revoked_at is not None:
        fields.append(
            ("revoked", f"{local_time(body.revoked_at, zone)} {body.revoke_reason or ''}")
        )
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        say(f"{name + ':':<{width + 2}}{value}")
    rows = [
        (
            names.lock(code.lock_id),
            code.status.replace("_", " "),
            code.last_error,
            local_time(code.next_attempt_at, zone) if code.next_attempt_at else None,
        )
        for code in body.lock_codes
    ]
    print_table("Its code on each lock", ["lock", "status", "last error", "next attempt"], rows)


@grant_app.command("add", cls=PlainCommand)
def grant_add(
    ctx: typer.Context,
    holder: str = typer.Option(..., help="Who the code is for."),
    starts: str = typer.Option(
        ..., "--from", help="Start, ISO 8601 with offset.", metavar="INSTANT"
    ),
    ends: str = typer.Option(..., "--to", help="End, ISO 8601 with offset.", metavar="INSTANT"),
    kind: GrantKind = typer.Option(GrantKind.MANUAL, help="staff, master or manual."),
    property_ref: str | None = typer.Option(
        None, "--property", help="The property's locks.", metavar="PROPERTY"
    ),
    lock_refs: list[str] = typer.Option([], "--lock", help="Or chosen locks (repeatable)."),
    reservation: str | None = typer.Option(None, help="Tie the grant to a reservation."),
    code: str | None = typer.Option(None, help="Use this code instead of a random one."),
    code_length: int | None = typer.Option(None, help="Length of the random code."),
) -> None:
    """Create a staff, master or manual code."""
    if kind is GrantKind.GUEST:
        raise typer.BadParameter("guest grants come from reservations", param_hint="--kind")
    state = state_of(ctx)
    request = grants.ManualGrantRequest(
        kind=kind,
        holder=holder,
        window=TimeWindow(parse_instant(starts, "--from"), parse_instant(ends, "--to")),
        property_ref=property_ref,
        lock_refs=tuple(lock_refs),
        reservation_id=reservation,
        code=code,
        code_length=code_length,
    )
    grant = grants.create_manual_grant(state.runtime().uow(), state.caller(), request)
    say(f"created {grant.kind} grant {grant.id} on {len(grant.lock_codes)} lock(s)")


@grant_app.command("revoke", cls=PlainCommand)
def grant_revoke(
    ctx: typer.Context, grant_id: str, reason: str = typer.Option("", help="Kept in the log.")
) -> None:
    """Revoke a grant now; its code leaves every lock."""
    state = state_of(ctx)
    grants.revoke_grant(state.runtime().uow(), state.caller(), grant_id, reason)
    say(f"revoked grant {grant_id}")


@grant_app.command("regenerate", cls=PlainCommand)
def grant_regenerate(ctx: typer.Context, grant_id: str) -> None:
    """Give a grant a fresh code."""
    state = state_of(ctx)
    grant = grants.regenerate_code(state.runtime().uow(), state.caller(), grant_id)
    say(f"grant {grant.id} has a new code (version {grant.version})")


def events(
    ctx: typer.Context,
    subject: str | None = typer.Option(None, help="Only events about this id."),
    kind: str | None = typer.Option(None, help="Only this kind, e.g. GrantRevoked."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """The audit log, newest first, each on its property's clock, named."""
    from doorcode.services.dashboard import event_lines

    state = state_of(ctx)
    which = EventFilter(subject_id=subject, kind=kind, limit=limit)
    if as_json:
        from doorcode.api.rendering import event_body

        found = list_events(state.runtime().uow(), state.caller(), which)
        print_json([event_body(event) for event in found])
        return
    lines = event_lines(state.runtime().uow(), state.caller(), which)
    rows = [
        (
            local_time(line.event.occurred_at, line.zone),
            line.event.kind,
            line.subject.label,
            line.event.subject_id,
            line.event.actor,
            line.event.reason,
        )
        for line in lines
    ]
    print_table("Events", ["at", "kind", "about", "id", "actor", "reason"], rows)
