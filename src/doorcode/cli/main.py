"""The ``doorcode`` command: global options, sub-commands, and one rule for errors.

Errors the domain, the services or a lock's back-end raise become ``Error: <message>`` on
stderr and exit code 1; usage mistakes exit with 2 (click's convention). No traceback reaches
an operator for a mistake they can fix.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, NamedTuple

import typer
from typer.core import TyperGroup

from doorcode import __version__
from doorcode.cli.collector import pause_collector
from doorcode.cli.context import CliState
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.terminal_text import say

__all__ = ["app", "run"]


class Entry(NamedTuple):
    """Where a sub-command lives, and its one-line help for ``doorcode --help``."""

    module: str
    attribute: str
    help: str


# Each command's module is imported only when that command runs: one command should not pay
# for the web framework, the job queue and the migrations of every other (``--version`` pays
# for none of them).
COMMANDS = {
    "init": Entry("setup", "init", "Create an installation and remember it."),
    "db": Entry("setup", "db_app", "The database schema."),
    "org": Entry("setup", "org_app", "Organisations (hosts or property managers)."),
    "apikey": Entry("setup", "apikey_app", "API keys for machines."),
    "user": Entry("users", "user_app", "Dashboard users (people; machines use API keys)."),
    "property": Entry("properties", "property_app", "Properties and their lock groups."),
    "lock": Entry("properties", "lock_app", "Locks (devices) and their capabilities."),
    "provider": Entry("providers", "provider_app", "Lock back-end accounts (Seam, TTLock, ...)."),
    "reservation": Entry("reservations", "reservation_app", "Reservations (stays)."),
    "grant": Entry("grants", "grant_app", "Grants: who may open which locks, when."),
    "schedule": Entry("schedules", "schedule_app", "Recurring staff codes (a cleaner's week)."),
    "offline": Entry("offline", "offline_app", "Offline codes: the window is in the digits."),
    "keypad": Entry("keypad", "keypad_app", "The keypads of virtual locks."),
    "source": Entry("sources", "source_app", "Webhook sources: PMSs that push reservations."),
    "delivery": Entry("sources", "delivery_app", "Webhook deliveries: what sources sent."),
    "push": Entry("sources", "push_app", "Codes pushed back to PMSs."),
    "feed": Entry("feeds", "feed_app", "Calendar (iCal) feeds of booking channels."),
    "template": Entry("messages", "template_app", "Guest message templates."),
    "messages": Entry("messages", "messages_app", "Guest messages: the notification log."),
    "rules": Entry("messages", "rules_app", "When guest messages are sent, per property."),
    "events": Entry("grants", "events", "The audit log, newest first."),
    "alerts": Entry("alerts", "alerts", "Open alerts, newest first."),
    "serve": Entry("serving", "serve", "Run the API and the background work."),
    "demo": Entry("serving", "demo", "Create the demo world and serve it."),
    "worker": Entry("serving", "worker", "Run background jobs on PostgreSQL."),
}


COMPLETION_OPTIONS = ("install_completion", "show_completion")


class ReportingGroup(TyperGroup):
    """Loads sub-commands on demand, and turns domain and service errors into one line.

    Errors the domain or the services raise become ``Error: <message>`` and exit code 1.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        """Every sub-command, without importing any of them."""
        return list(COMMANDS)

    def get_command(self, ctx: Any, name: str) -> Any:
        """Import the one command asked for."""
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        target = getattr(importlib.import_module(f"doorcode.cli.{entry.module}"), entry.attribute)
        command: Any
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)  # a group even with one sub-command
        else:
            wrapper = typer.Typer()
            wrapper.command(name, cls=PlainCommand)(target)
            command = typer.main.get_command(wrapper)
        command.name = name
        # Completion is offered once, by `doorcode` itself, not again by every sub-command.
        command.params = [p for p in command.params if p.name not in COMPLETION_OPTIONS]
        _plain_help(command)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """``doorcode --help`` lists the commands from the table above, importing none."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.help) for name, entry in COMMANDS.items()])

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Refuse a NUL character in any argument, as the API and the dashboard do.

        PostgreSQL cannot store one (the command would end in a driver traceback) and SQLite
        stored names that print as something else. The option it was given to is named, not
        the value: that may be a credential.
        """
        from doorcode.domain.text import has_nul

        for index, argument in enumerate(args):
            if has_nul(argument):
                option, equals, _ = argument.partition("=")
                before = args[index - 1] if index else ""
                if argument.startswith("--") and equals:
                    hint = option
                elif before.startswith("-"):
                    hint = before
                else:
                    hint = f"argument {index + 1}"
                raise typer.BadParameter("holds a NUL character (\\x00)", ctx, param_hint=hint)
        return list(super().parse_args(ctx, args))

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a mistake the operator can fix is one line and exit code 1."""
        from doorcode.cli.installation import NoInstallation
        from doorcode.config import SettingsError
        from doorcode.domain.errors import DomainError
        from doorcode.locks.errors import ProviderError
        from doorcode.services.errors import ServiceError
        from doorcode.store.code_cipher import UnreadableSecret

        try:
            return super().invoke(ctx)
        except (
            DomainError,
            ServiceError,
            ProviderError,  # its messages are written for operators (locks/errors.py)
            UnreadableSecret,
            NoInstallation,
            SettingsError,
        ) as err:
            say(f"Error: {err}", err=True)
            raise typer.Exit(code=1) from err
        except Exception as err:
            from doorcode.store.database import database_trouble

            trouble = database_trouble(err)
            if trouble is None:
                raise
            say(f"Error: {trouble}", err=True)
            raise typer.Exit(code=1) from err


def _plain_help(command: Any) -> None:
    """Plain help everywhere: Typer's rich panels show ``<bool>`` beside every flag."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


app = typer.Typer(
    name="doorcode",
    cls=ReportingGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Unique, time-limited door codes for every guest, on every smart lock.",
)


def _print_version(value: bool) -> None:
    if value:
        # importlib.metadata takes longer to import than most commands take to run.
        from importlib.metadata import version

        say(f"doorcode {__version__} (tzdata {version('tzdata')})")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    organisation: str | None = typer.Option(
        None,
        "--org",
        envvar="DOORCODE_ORGANISATION",
        metavar="ORGANISATION",
        help="Organisation slug (if several).",
    ),
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print versions."
    ),
) -> None:
    """Set up what every command shares."""
    ctx.obj = CliState(organisation)
    ctx.call_on_close(ctx.obj.close)


PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
"""Pydantic reads every installed package's entry points for plugins when it builds its first
model: about 22 ms of every command here, for plugins doorcode has none of. Off unless the
operator set the variable themselves (``PYDANTIC_DISABLE_PLUGINS=`` turns them back on)."""


def run() -> None:
    """Console entry point."""
    pause_collector()
    os.environ.setdefault(PYDANTIC_PLUGINS, "__all__")
    app()
