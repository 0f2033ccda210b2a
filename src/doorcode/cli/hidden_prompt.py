"""Hidden prompts for passwords and credentials, asked only where a terminal can hide them.

Without a terminal (a script, a CI job, ``</dev/null``), ``getpass`` falls back to reading
standard input behind a Python ``GetPassWarning``, and at the end of input click prints a bare
``Aborted!``: whoever ran the command learns neither what went wrong nor how to give the secret
another way. Every hidden prompt of the CLI goes through here and, with no terminal, ends in one
line naming that way, before anything is stored.
"""

from __future__ import annotations

import os
import sys

import typer

from doorcode.cli.terminal_text import say

__all__ = ["ask_secret", "has_terminal", "require_terminal"]


def has_terminal() -> bool:
    """Whether ``getpass`` can ask without echoing: a controlling terminal, or stdin being one."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return sys.stdin is not None and sys.stdin.isatty()
    return True


def require_terminal(secret: str, instead: str) -> None:
    """Stop with exit code 1 and how to give ``secret`` without a prompt, when none can be shown."""
    if not has_terminal():
        say(f"Error: there is no terminal to ask for {secret} at: {instead}", err=True)
        raise typer.Exit(code=1)


def ask_secret(text: str, *, confirm: bool = False) -> str:
    """The secret typed at a hidden prompt (call ``require_terminal`` first)."""
    answer: str = typer.prompt(text, hide_input=True, confirmation_prompt=confirm)
    return answer
