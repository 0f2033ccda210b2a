"""How ``--help`` names the values a command asks for: PROPERTY, DATE or N, never ``<str>``.

Typer writes a parameter's Python type where a reader expects a word: ``--zone <str>``,
``name <str>`` under Arguments, and ``{name}`` in the usage line. Every doorcode command is
built with ``cls=PlainCommand``: an option or argument that names its value (``metavar=``)
shows that name; one that does not shows its own name in capitals (``--zone ZONE``, ``LOCK``
for ``lock_ref``), and a number shows ``N``. Flags show no value, and choices keep their list
(``<guest|staff|...>``). tests/cli/test_help.py runs ``--help`` for every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

__all__ = ["PlainCommand", "value_name"]

REFERENCE_SUFFIXES = ("_refs", "_ref", "_ids")
"""``lock_ref`` takes a lock's id or name, ``lock_refs`` one such per ``--lock`` and
``feed_ids`` one feed each: each value is called LOCK or FEED."""


class PlainCommand(TyperCommand):
    """A command whose help names each value with a word, not a Python type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.metavar is not None or getattr(param, "is_flag", False):
                continue
            if param.param_type_name == "argument" or not _has_choices(param):
                param.metavar = value_name(param)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Refuse an option given twice (``--property f1 --property f2``, ``--online
        --offline``) unless it is repeatable: click keeps the last one silently, and a booking
        went to the second property without a word."""
        rest: list[str] = super().parse_args(ctx, list(args))
        _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        seen: set[int] = set()
        param: Any
        for param in order:
            repeatable = param.multiple or getattr(param, "count", False)
            # A flag repeated says the same thing twice; --online --offline contradicts itself.
            same_flag = getattr(param, "is_flag", False) and not param.secondary_opts
            once = param.param_type_name == "option" and not repeatable and not same_flag
            if once and id(param) in seen:
                names = "/".join([*param.opts, *param.secondary_opts])
                raise typer.BadParameter("given more than once: give it once", ctx, None, names)
            seen.add(id(param))
        return rest

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] PROPERTY [URL]``: required arguments bare, optional ones bracketed."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                shown = _argument_name(param)
                pieces.append(shown if param.required else f"[{shown}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The Arguments and Options sections, each value named as ``value_name`` says."""
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name != "argument":
                options.append(record)
            elif _has_choices(param):
                arguments.append(record)  # "PURPOSE <arrival|departure|...>"
            else:
                # Typer's record puts the Python type after the name; its help part stays.
                arguments.append((_argument_name(param), record[1]))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def value_name(param: Any) -> str:
    """The word for a parameter's value: N for a number, PATH for a path, else its name."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = descriptor.annotation if descriptor is not None else None
    if annotation in (int, float):
        return "N"
    if annotation is Path:
        return "PATH"
    name = str(param.name or "value")
    for suffix in REFERENCE_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix).upper()
    return name.upper()


def _has_choices(param: Any) -> bool:
    """Choices are listed by Typer (``<numeric|alphanumeric>``): that says more than a name."""
    descriptor = getattr(param, "type_descriptor", None)
    return bool(descriptor is not None and descriptor.is_choice)


def _argument_name(param: Any) -> str:
    shown = str(param.metavar or value_name(param))
    return shown if param.nargs == 1 else f"{shown}..."
