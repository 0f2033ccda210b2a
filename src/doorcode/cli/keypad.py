"""``doorcode keypad enter``: type a code at a virtual lock and see whether the door opens."""

from __future__ import annotations

import asyncio

import typer

from doorcode.cli.context import parse_instant, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.terminal_text import say
from doorcode.services.keypad import enter_on_keypad, program_keypad, register_short_pin
from doorcode.services.locks import find_lock
from doorcode.sync.access_poller import poll_lock
from doorcode.sync.provisioning import install_virtual_locks

keypad_app = typer.Typer(help="The keypads of virtual locks.", no_args_is_help=True)


@keypad_app.command("enter", cls=PlainCommand)
def keypad_enter(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    code: str = typer.Argument(..., help="What to type."),
    at: str | None = typer.Option(
        None, help="When, ISO 8601 with offset (default: now).", metavar="INSTANT"
    ),
) -> None:
    """Says OPEN (exit 0) or REFUSED with the reason (exit 1)."""
    state = state_of(ctx)
    moment = parse_instant(at, "--at") if at is not None else None
    runtime = state.runtime()
    caller = state.caller()
    install_virtual_locks(runtime)
    result = enter_on_keypad(runtime.uow(), caller, runtime.providers, lock_ref, code, moment)
    lock = find_lock(runtime.uow(), caller, lock_ref)
    asyncio.run(poll_lock(runtime, lock.id))  # `doorcode lock log` shows the entry at once
    if result.opened:
        opened_by = result.grant_id or (
            result.reason if result.reason == "offline code" else "a code set at the lock"
        )
        say(f"OPEN ({opened_by})")
        return
    say(f"REFUSED: {result.reason}")
    raise typer.Exit(code=1)


@keypad_app.command("pin", cls=PlainCommand)
def keypad_pin(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    pin: str = typer.Argument(..., help="4 to 8 digits, right after an offline code opened."),
    at: str | None = typer.Option(
        None, help="When, ISO 8601 with offset (default: now).", metavar="INSTANT"
    ),
) -> None:
    """Register a short PIN at an offline keypad (within 10 s of an offline code opening it)."""
    state = state_of(ctx)
    moment = parse_instant(at, "--at") if at is not None else None
    runtime = state.runtime()
    result = register_short_pin(
        runtime.uow(), state.caller(), runtime.providers, lock_ref, pin, moment
    )
    _report(result.accepted, result.reason)


@keypad_app.command("program", cls=PlainCommand)
def keypad_program(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    sequence: str = typer.Argument(..., help="Digits and # for Enter, e.g. from `offline block`."),
    at: str | None = typer.Option(
        None, help="When, ISO 8601 with offset (default: now).", metavar="INSTANT"
    ),
) -> None:
    """Type a programming sequence at an offline keypad (such as blocking a code)."""
    state = state_of(ctx)
    moment = parse_instant(at, "--at") if at is not None else None
    runtime = state.runtime()
    result = program_keypad(
        runtime.uow(), state.caller(), runtime.providers, lock_ref, sequence, moment
    )
    _report(result.accepted, result.reason)


def _report(accepted: bool, reason: str) -> None:
    say(("ACCEPTED: " if accepted else "REFUSED: ") + reason)
    if not accepted:
        raise typer.Exit(code=1)
