"""Text bound for a terminal: control characters that others typed are shown, never obeyed.

Guest names, booking references, lock names and webhook bodies come from outside (a PMS, a
calendar, a lock's cloud, anyone who can reach the webhook URL), and the CLI prints them. An
escape sequence among them would be obeyed by the operator's terminal: retitle the window,
hide or rewrite lines, on some terminals worse; a line separator or a bidi override would
break or reorder the line shown. Every line the CLI prints goes through here, and each
character of ``UNSAFE_CHARACTERS`` comes out as its escape (``\\x1b``, ``\\u202e``), which
reads as what it is.

Two differences from the log's escaping (``doorcode.logs``), both deliberate, because ``say``
is handed whole output (doorcode's messages, tables and JSON, with what others typed inside)
and cannot tell the parts apart. Newline and tab are kept: that output spans lines, and a tab
only moves along the line. A backslash is not doubled: that would change what the JSON's own
escapes say (``\\n``) and break the JSON at its ``\\"``.
"""

from __future__ import annotations

import typer

from doorcode.unsafe_characters import UNSAFE_CHARACTERS, escape_sequence

__all__ = ["say", "shown", "shown_json"]

_KEPT = {ord("\n"), ord("\t")}
_SHOWN_ESCAPED = UNSAFE_CHARACTERS - _KEPT
_AS_TEXT = {c: escape_sequence(c) for c in _SHOWN_ESCAPED}
_AS_JSON = {c: f"\\u{c:04x}" for c in _SHOWN_ESCAPED}


def shown(text: str) -> str:
    """``text`` with every unsafe character but newline and tab written as its escape."""
    return text.translate(_AS_TEXT)


def shown_json(text: str) -> str:
    """JSON text made safe the same way, still valid JSON (raw controls sit only in strings)."""
    return text.translate(_AS_JSON)


def say(message: str = "", *, err: bool = False) -> None:
    """``typer.echo`` for every line the CLI prints (see the module's note)."""
    typer.echo(shown(message), err=err)
