"""``doorcode source``, ``doorcode delivery`` and ``doorcode push``: PMS webhooks both ways."""

from __future__ import annotations

import typer

from doorcode.api.source_bodies import (
    delivery_body,
    delivery_detail_body,
    push_body,
    source_body,
    webhook_path,
)
from doorcode.cli.context import JsonOption, print_json, print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time, organisation_zone
from doorcode.cli.terminal_text import say
from doorcode.sources import deliveries, pms_push, webhook_sources
from doorcode.sources.pms_push import PushStatus
from doorcode.sources.webhook_sources import SourceKind, SourceSettings
from doorcode.store.source_repositories import DeliveryFilter, PushFilter

source_app = typer.Typer(help="Webhook sources: PMSs that push reservations.", no_args_is_help=True)
delivery_app = typer.Typer(help="Webhook deliveries: what sources sent.", no_args_is_help=True)
push_app = typer.Typer(help="Codes pushed back to PMSs.", no_args_is_help=True)


@source_app.command("add", cls=PlainCommand)
def source_add(
    ctx: typer.Context,
    name: str,
    kind: SourceKind = typer.Option(SourceKind.GENERIC, help="generic, hostaway or guesty."),
    push_url: str | None = typer.Option(None, help="Where to POST each guest's code back."),
    signing_secret: str | None = typer.Option(
        None, envvar="DOORCODE_SOURCE_SIGNING_SECRET", help="Guesty only: its whsec_ secret."
    ),
) -> None:
    """Add a source; its secrets are printed once and cannot be shown again."""
    state = state_of(ctx)
    settings = SourceSettings(name, kind, push_url, signing_secret)
    issued = webhook_sources.add_source(state.runtime().uow(), state.caller(), settings)
    source = issued.source
    say(f"webhook URL path: {webhook_path(source)}")
    if kind is SourceKind.HOSTAWAY:
        say(f"basic auth login: {source.id}")
        say(f"basic auth password: {issued.secret}")
    elif kind is SourceKind.GENERIC:
        say(f"signing secret: {issued.secret}")
    if issued.push_secret:
        say(f"push signing secret: {issued.push_secret}")
    say(f"{kind.value} source {name!r} added ({source.id}); store the secrets now.", err=True)


@source_app.command("list", cls=PlainCommand)
def source_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List sources (never their secrets)."""
    state = state_of(ctx)
    found = webhook_sources.list_sources(state.runtime().uow(), state.caller())
    if as_json:
        print_json([source_body(source) for source in found])
        return
    rows = [(s.id, s.name, s.kind, webhook_path(s), s.push_url_hint) for s in found]
    print_table("Sources", ["id", "name", "kind", "webhook", "push to"], rows)


@delivery_app.command("list", cls=PlainCommand)
def delivery_list(
    ctx: typer.Context,
    source: str | None = typer.Option(None, help="Only this source (id or name)."),
    outcome: deliveries.Outcome | None = typer.Option(None, help="Only this outcome."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """List deliveries, newest first."""
    state = state_of(ctx)
    if source is not None:  # by id or name, as everywhere; a typo is named, not "none found"
        source = webhook_sources.find_source(state.runtime().uow(), state.caller(), source).id
    which = DeliveryFilter(source_id=source, outcome=outcome, limit=limit)
    found = deliveries.list_deliveries(state.runtime().uow(), state.caller(), which)
    if as_json:
        print_json([delivery_body(delivery) for delivery in found])
        return
    zone = organisation_zone(state)
    rows = [
        (
            d.id,
            local_time(d.received_at, zone),
            d.source_id,
            d.outcome,
            d.reason,
            d.external_id,
            d.reservation_id,
        )
        for d in found
    ]
    columns = ["id", "received", "source", "outcome", "reason", "external id", "reservation"]
    print_table("Deliveries", columns, rows)


@delivery_app.command("show", cls=PlainCommand)
def delivery_show(ctx: typer.Context, delivery_id: str) -> None:
    """Show one delivery with its headers and body (secrets redacted)."""
    state = state_of(ctx)
    found = deliveries.get_delivery(state.runtime().uow(), state.caller(), delivery_id)
    print_json(delivery_detail_body(found))


@delivery_app.command("replay", cls=PlainCommand)
def delivery_replay(ctx: typer.Context, delivery_id: str) -> None:
    """Process a stored delivery again (after adding a missing property, say)."""
    state = state_of(ctx)
    try:
        result = deliveries.replay_delivery(state.runtime().uow(), state.caller(), delivery_id)
    except deliveries.DeliveryRefused as err:
        say(f"Error: {err.error.reason}: {err.error.message} ({err.delivery_id})", err=True)
        raise typer.Exit(code=1) from err
    delivery = result.delivery
    say(f"{delivery.outcome}: delivery {delivery.id}, reservation {delivery.reservation_id}")


@push_app.command("list", cls=PlainCommand)
def push_list(
    ctx: typer.Context,
    status: PushStatus | None = typer.Option(None, help="Only pushes in this state."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """List codes pushed (or waiting to be pushed) back to PMSs, newest first."""
    state = state_of(ctx)
    which = PushFilter(status=status, limit=limit)
    found = pms_push.list_pushes(state.runtime().uow(), state.caller(), which)
    if as_json:
        print_json([push_body(push) for push in found])
        return
    zone = organisation_zone(state)
    rows = [
        (
            p.id,
            local_time(p.created_at, zone),
            p.event_kind,
            p.grant_id,
            p.status,
            p.attempts,
            p.last_error,
        )
        for p in found
    ]
    print_table("Pushes", ["id", "queued", "event", "grant", "status", "tries", "error"], rows)
