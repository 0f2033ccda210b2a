"""The ``doorcode`` command: global options, sub-commands, and one rule for errors.

Errors the domain or the services raise become ``Error: <message>`` on stderr and exit code 1;
usage mistakes exit with 2 (click's convention). No traceback reaches an operator for a
mistake they can fix.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import typer
from typer.core import TyperGroup

from doorcode import __version__
from doorcode.cli.alerts import alerts
from doorcode.cli.context import CliState
from doorcode.cli.feeds import feed_app
from doorcode.cli.grants import events, grant_app
from doorcode.cli.keypad import keypad_app
from doorcode.cli.messages import host_contact, messages_app, rules_app, template_app
from doorcode.cli.offline import offline_app
from doorcode.cli.properties import lock_app, property_app
from doorcode.cli.providers import lock_import, provider_app
from doorcode.cli.reservations import reservation_app
from doorcode.cli.serving import demo, serve, worker
from doorcode.cli.setup import apikey_app, db_app, org_app
from doorcode.cli.sources import delivery_app, push_app, source_app
from doorcode.cli.users import user_app
from doorcode.domain.errors import DomainError
from doorcode.services.errors import ServiceError
from doorcode.store.code_cipher import UnreadableSecret

__all__ = ["app", "run"]


class ReportingGroup(TyperGroup):
    """Turns domain and service errors into a one-line message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (DomainError, ServiceError, UnreadableSecret) as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(code=1) from err


app = typer.Typer(
    name="doorcode",
    cls=ReportingGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Unique, time-limited door codes for every guest, on every smart lock.",
)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(property_app, name="property")
app.add_typer(lock_app, name="lock")
app.add_typer(provider_app, name="provider")
lock_app.command("import")(lock_import)
app.add_typer(reservation_app, name="reservation")
app.add_typer(grant_app, name="grant")
app.add_typer(offline_app, name="offline")
app.add_typer(keypad_app, name="keypad")
app.add_typer(source_app, name="source")
app.add_typer(delivery_app, name="delivery")
app.add_typer(push_app, name="push")
app.add_typer(feed_app, name="feed")
app.add_typer(template_app, name="template")
app.add_typer(messages_app, name="messages")
app.add_typer(rules_app, name="rules")
org_app.command("contact")(host_contact)
app.command("events")(events)
app.command("alerts")(alerts)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("worker")(worker)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"doorcode {__version__} (tzdata {version('tzdata')})")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    organisation: str | None = typer.Option(
        None, "--org", envvar="DOORCODE_ORGANISATION", help="Organisation slug (if several)."
    ),
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print versions."
    ),
) -> None:
    """Set up what every command shares."""
    ctx.obj = CliState(organisation)
    ctx.call_on_close(ctx.obj.close)


def run() -> None:
    """Console entry point."""
    app()
