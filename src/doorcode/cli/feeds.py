"""``doorcode feed``: calendar URLs polled for a property's bookings."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from doorcode.api.source_bodies import feed_body
from doorcode.cli.context import JsonOption, print_json, print_table, state_of, terminal
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time
from doorcode.cli.terminal_text import say
from doorcode.domain.windows import zone_named
from doorcode.services.errors import InvalidRequest
from doorcode.sources import ical_feeds
from doorcode.sources.feed_fetch import names_a_private_host
from doorcode.sources.feed_poller import feed_policy
from doorcode.sources.ical_feeds import FeedSettings, SyncReport
from doorcode.sources.ical_parser import Channel

feed_app = typer.Typer(help="Calendar (iCal) feeds of booking channels.", no_args_is_help=True)


@feed_app.command("add", cls=PlainCommand)
def feed_add(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., metavar="PROPERTY", help="Id, external id or name."),
    url: str = typer.Argument(..., help="The channel's export URL (https:// or webcal://)."),
    name: str = typer.Option("", help="A label, e.g. 'Airbnb'."),
    channel: Channel = typer.Option(Channel.AUTO, help="Who exports it (auto guesses)."),
    include_blocked: bool = typer.Option(False, help="Give blocked dates codes too."),
    interval: int | None = typer.Option(None, min=1, help="Minutes between polls."),
) -> None:
    """Add a calendar URL to a property; the URL is stored encrypted and shown masked."""
    state = state_of(ctx)
    settings = FeedSettings(property_ref, url, name, channel, include_blocked, interval)
    runtime = state.runtime()
    feed = ical_feeds.add_feed(runtime.uow(), state.caller(), settings)
    say(f"added feed {feed.id} ({feed.url_hint}) to {feed.property.name}")
    if names_a_private_host(url) and not runtime.settings.feed_allow_private:
        say(
            "note: its host is a loopback or private address, which is never fetched unless "
            "DOORCODE_FEED_ALLOW_PRIVATE=1 is set where doorcode serve (or the worker) runs"
        )


@feed_app.command("list", cls=PlainCommand)
def feed_list(
    ctx: typer.Context,
    property_ref: str | None = typer.Option(None, "--property", help="Only this property."),
    as_json: bool = JsonOption,
) -> None:
    """List feeds with how their last poll went."""
    state = state_of(ctx)
    found = ical_feeds.list_feeds(state.runtime().uow(), state.caller(), property_ref)
    if as_json:
        print_json([feed_body(feed) for feed in found])
        return
    rows = [
        (
            f.id,
            f.property.name,
            f.name,
            f.url_hint,
            f.last_outcome,
            local_time(f.last_success_at, zone_named(f.property.time_zone)),
            local_time(f.next_poll_at, zone_named(f.property.time_zone)),
        )
        for f in found
    ]
    columns = ["id", "property", "name", "url", "last poll", "last good poll", "next poll"]
    print_table("Feeds", columns, rows)


@feed_app.command("sync", cls=PlainCommand)
def feed_sync(
    ctx: typer.Context,
    feed_ids: list[str] = typer.Argument(None, help="Feeds to poll (default: every feed)."),
) -> None:
    """Poll feeds now, with a progress bar; exits with 1 when a feed could not be read."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    ids = feed_ids or [feed.id for feed in ical_feeds.list_feeds(runtime.uow(), caller)]
    reports: list[SyncReport] = []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with (
        ical_feeds.feed_client(allow_private=runtime.settings.feed_allow_private) as client,
        Progress(*columns, console=terminal(), transient=True) as bar,
    ):
        task = bar.add_task("Syncing feeds", total=len(ids))
        for feed_id in ids:
            policy = feed_policy(runtime)
            reports.append(ical_feeds.sync_feed(runtime.uow(), caller, client, feed_id, policy))
            bar.advance(task)
    rows = [(r.feed_id, r.outcome.value, r.message) for r in reports]
    print_table("Feed sync", ["feed", "outcome", "what happened"], rows)
    failed = [r for r in reports if not r.outcome.is_healthy]
    if failed:
        raise InvalidRequest(f"{len(failed)} of {len(reports)} feed(s) could not be read")
