"""What every command shares: the runtime, the acting caller, and how results are printed."""

from __future__ import annotations

import getpass
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import typer

from doorcode.cli.installation import locate, read_config
from doorcode.cli.terminal_text import say, shown, shown_json

if TYPE_CHECKING:  # the heavy parts load when a command needs them, not for --version
    from pydantic import BaseModel
    from rich.console import Console

    from doorcode.config import Settings
    from doorcode.runtime import Runtime
    from doorcode.services.caller import Caller

__all__ = [
    "CliState",
    "JsonOption",
    "parse_date",
    "parse_instant",
    "parse_time",
    "print_json",
    "print_table",
    "state_of",
    "terminal",
]

_console: Console | None = None


def terminal() -> Console:
    """Where tables and progress bars go (made on first use: Rich takes a while to import)."""
    global _console
    if _console is None:
        from rich.console import Console

        # Piped output keeps whole ids on one line instead of Rich's 80-column default.
        _console = Console(width=None if sys.stdout.isatty() else 240)
    return _console


ID_PATTERN = re.compile(r"[a-z]{2,5}_[A-Za-z0-9]{6,}")
"""What our ids look like (``grt_…``, ``res_…``): columns holding them are never cut."""

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


@dataclass
class CliState:
    """Built once per invocation; the runtime opens (and migrates) only when a command needs it."""

    organisation: str | None
    settings_factory: Callable[[], Settings] | None = None
    _runtime: Runtime | None = field(default=None, init=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, init=False)

    def runtime(self, *, create: bool = False) -> Runtime:
        """The wired parts of the installation found; ``create`` is for init, serve and demo.

        Every command brings the schema up to date first.
        """
        if self._runtime is None:
            from doorcode import bootstrap
            from doorcode.config import Settings, load_settings

            settings = load_settings(self.settings_factory or Settings)
            self._runtime = bootstrap.bootstrap(locate(settings, create=create))
            self._hand_changes_to_workers(self._runtime)
        return self._runtime

    def _hand_changes_to_workers(self, runtime: Runtime) -> None:
        """With ``doorcode worker`` processes, a command's changes reach them at its commit.

        Without this a change made here would wait for the workers' catch-up (a minute);
        the embedded runner of ``serve`` finds it by itself within a second.
        """
        from doorcode.config import Runner

        if runtime.settings.runner is not Runner.WORKER:
            return
        from doorcode.sync.jobs import enqueue_after_commit  # Procrastinate is slow to import

        enqueuer = enqueue_after_commit(runtime)
        runtime.commit_hooks.append(enqueuer)
        self._closers.append(enqueuer.close)

    def caller(self) -> Caller:
        """The operator at the terminal acts as an owner of the chosen organisation.

        The organisation is ``--org`` (or DOORCODE_ORGANISATION), else the one `org use`
        remembered, else the only one there is.
        """
        from doorcode.services.caller import Caller, Role
        from doorcode.services.organisations import resolve_organisation

        runtime = self.runtime()
        chosen = self.organisation or read_config().organisation
        organisation = resolve_organisation(runtime.uow(), chosen)
        return Caller(organisation.id, f"cli:{getpass.getuser()}", Role.OWNER)

    def close(self) -> None:
        """Release the database and the job queue."""
        for close in self._closers:
            close()
        if self._runtime is not None:
            self._runtime.close()


def state_of(ctx: typer.Context) -> CliState:
    """The shared state the top-level callback stored."""
    state: CliState = ctx.obj
    return state


def print_json(items: BaseModel | Sequence[BaseModel]) -> None:
    """Machine-readable output: the same bodies the REST API answers with."""
    from pydantic import BaseModel

    if isinstance(items, BaseModel):
        say(shown_json(items.model_dump_json(indent=2)))
        return
    say(shown_json(json.dumps([item.model_dump(mode="json") for item in items], indent=2)))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Human-readable output.

    Cells are plain text, never Rich markup: a guest named ``[/b] Eve`` (a booking from
    anywhere) is printed as such, where markup made the whole listing fail.
    """
    from rich.table import Table
    from rich.text import Text

    cells = [[_cell(value) for value in row] for row in rows]
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        ids = [row[index] for row in cells if ID_PATTERN.fullmatch(row[index])]
        if ids:
            # An id is copied into the next command: never cut or folded, whatever the width.
            table.add_column(column, no_wrap=True, min_width=max(map(len, ids)))
        else:
            table.add_column(column)
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    terminal().print(table, crop=False)


def parse_date(value: str, name: str) -> date:
    """A YYYY-MM-DD date, or a usage error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-12-24", param_hint=name
        ) from err


def parse_time(value: str, name: str) -> time:
    """An HH:MM time on the property's wall clock, or a usage error naming the option.

    A time with an offset ("10:00+05:00") is refused as the API refuses it: the property's
    zone decides the instant, and dropping the offset would move a code by hours.
    """
    try:
        parsed = time.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(f"{value!r} is not a time like 15:00", param_hint=name) from err
    if parsed.tzinfo is not None:
        raise typer.BadParameter(f"{value!r}: give HH:MM, without an offset", param_hint=name)
    return parsed


def parse_instant(value: str, name: str) -> datetime:
    """An ISO 8601 instant with its offset; a naive time is refused, not guessed."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(f"{value!r} is not a date and time", param_hint=name) from err
    if parsed.tzinfo is None:
        raise typer.BadParameter(
            f"{value!r} has no offset: write it like 2026-12-24T15:00+01:00", param_hint=name
        )
    return parsed


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z")
    return shown(str(value))
