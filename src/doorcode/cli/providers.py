"""``doorcode provider`` and ``doorcode lock import``: lock back-end accounts and their devices.

Credentials are asked for at a hidden prompt unless given with ``--credential NAME=VALUE``
(scripts); they are never printed back.
"""

from __future__ import annotations

import typer

from doorcode.cli.context import JsonOption, print_json, print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.hidden_prompt import ask_secret, require_terminal
from doorcode.cli.terminal_text import say
from doorcode.services import provider_accounts
from doorcode.services.errors import InvalidRequest

__all__ = ["lock_import", "provider_app"]

provider_app = typer.Typer(
    help="Lock back-end accounts (Seam, TTLock, Nuki...).", no_args_is_help=True
)


@provider_app.command("connect", cls=PlainCommand)
def provider_connect(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="The back-end: seam, virtual, ..."),
    label: str = typer.Option(..., help="Your name for the account; again to reconnect it."),
    credential: list[str] = typer.Option(
        [], metavar="NAME=VALUE", help="A credential (else asked at a hidden prompt)."
    ),
    option: list[str] = typer.Option(
        [], metavar="NAME=VALUE", help="A setting, such as base_url=https://..."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Connect an account (or replace its credentials); owners only."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    given = _pairs(credential, "--credential")
    empty = provider_accounts.account_request(runtime.providers, kind, label, {}, {})
    missing = [name for name in empty.needed if name not in given]
    if missing:
        flags = " ".join(f"--credential {name}=VALUE" for name in missing)
        require_terminal(f"{kind} {', '.join(missing)}", f"give {flags}")
    for name in missing:
        given[name] = ask_secret(f"{kind} {name}")
    request = provider_accounts.account_request(
        runtime.providers, kind, label, given, _pairs(option, "--option")
    )
    account = provider_accounts.connect_account(runtime.uow(), caller, request)
    if as_json:
        found = provider_accounts.list_accounts(runtime.uow(), caller)
        from doorcode.api.provider_accounts import account_body  # FastAPI only for --json

        print_json(account_body(next(a for a in found if a.id == account.id)))
        return
    say(f"connected {account.kind} account {account.label} ({account.id})")


@provider_app.command("list", cls=PlainCommand)
def provider_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """The organisation's accounts; credentials are named, never shown."""
    state = state_of(ctx)
    found = provider_accounts.list_accounts(state.runtime().uow(), state.caller())
    if as_json:
        from doorcode.api.provider_accounts import account_body  # FastAPI only for --json

        print_json([account_body(a) for a in found])
        return
    rows = [
        (a.label, a.kind, a.id, ", ".join(a.credential_names), a.locks, a.refused_reason or "ok")
        for a in found
    ]
    print_table("Provider accounts", ["label", "kind", "id", "credentials", "locks", "state"], rows)


@provider_app.command("remove", cls=PlainCommand)
def provider_remove(ctx: typer.Context, reference: str) -> None:
    """Forget an account and its credentials (refused while it still has locks)."""
    state = state_of(ctx)
    provider_accounts.remove_account(state.runtime().uow(), state.caller(), reference)
    say(f"removed provider account {reference}")


def lock_import(
    ctx: typer.Context,
    account: str = typer.Option(..., help="The provider account (label or id)."),
    as_json: bool = JsonOption,
) -> None:
    """Pull the account's devices as locks, with the capabilities the vendor reports."""
    import asyncio

    from doorcode.services.lock_import import import_locks  # the vendor clients load here

    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    report = asyncio.run(
        import_locks(runtime.uow, runtime.providers, runtime.clock, caller, account)
    )
    if as_json:
        from doorcode.api.provider_accounts import import_body  # FastAPI only for --json

        print_json(import_body(report))
        return
    rows = [
        *((name, "added") for name in report.added),
        *((name, "capabilities changed") for name in report.changed),
        *((name, "unchanged") for name in report.unchanged),
        *((name, "gone at the vendor (alert raised)") for name in report.gone),
        *((name, "belongs to another organisation") for name in report.taken),
    ]
    print_table(f"Import from {report.account}", ["lock", "outcome"], rows)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, content = value.partition("=")
        if not sep or not name.strip():
            raise InvalidRequest(f"{option} takes NAME=VALUE")
        if name.strip() in pairs:  # the first value was dropped silently; neither is echoed
            raise InvalidRequest(f"{option} {name.strip()} is given twice: give it once")
        pairs[name.strip()] = content
    return pairs
