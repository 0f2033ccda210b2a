"""Text bound for a terminal: control characters that others typed are shown, never obeyed.

Guest names, booking references, lock names and webhook bodies come from outside (a PMS, a
calendar, a lock's cloud, anyone who can reach the webhook URL), and the CLI prints them. An
escape sequence among them would be obeyed by the operator's terminal: retitle the window,
hide or rewrite lines, on some terminals worse. Every line the CLI prints goes through here,
and each such character comes out as its escape (``\\x1b``), which reads as what it is.
"""

from __future__ import annotations

import typer

__all__ = ["say", "shown", "shown_json"]

_KEPT = {ord("\n"), ord("\t")}
_CONTROLS = [c for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c not in _KEPT]
_AS_TEXT = {c: f"\\x{c:02x}" for c in _CONTROLS}
_AS_JSON = {c: f"\\u{c:04x}" for c in _CONTROLS}


def shown(text: str) -> str:
    """``text`` with every control character but newline and tab written as its escape."""
    return text.translate(_AS_TEXT)


def shown_json(text: str) -> str:
    """JSON text made safe the same way, still valid JSON (raw controls sit only in strings)."""
    return text.translate(_AS_JSON)


def say(message: str = "", *, err: bool = False) -> None:
    """``typer.echo`` for every line the CLI prints (see the module's note)."""
    typer.echo(shown(message), err=err)
