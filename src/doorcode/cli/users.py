"""``doorcode user``: the people who sign in to the dashboard."""

from __future__ import annotations

import os

import typer

from doorcode.cli.context import print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.hidden_prompt import ask_secret, require_terminal
from doorcode.cli.names import local_time, organisation_zone
from doorcode.cli.terminal_text import say
from doorcode.services.caller import Role
from doorcode.services.users import create_user, list_users, set_user_disabled

user_app = typer.Typer(
    help="Dashboard users (people; machines use API keys).", no_args_is_help=True
)

PASSWORD_VARIABLE = "DOORCODE_USER_PASSWORD"  # noqa: S105 (a variable name, not a password)


@user_app.command("create", cls=PlainCommand)
def user_create(
    ctx: typer.Context,
    username: str,
    role: Role = typer.Option(Role.MANAGER, help="owner, manager or viewer."),
) -> None:
    """Create a user; the password is asked for (or read from DOORCODE_USER_PASSWORD)."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        require_terminal("the password", f"set {PASSWORD_VARIABLE} to give it without a prompt")
        password = ask_secret("Password (at least 12 characters)", confirm=True)
    state = state_of(ctx)
    user = create_user(state.runtime().uow(), state.caller(), username, password, role)
    say(f"created {user.role} {user.username}; they can sign in at the dashboard now")


@user_app.command("list", cls=PlainCommand)
def user_list(ctx: typer.Context) -> None:
    """List users: role, last sign-in, disabled."""
    state = state_of(ctx)
    users = list_users(state.runtime().uow(), state.caller())
    zone = organisation_zone(state)
    rows = [
        (
            u.username,
            u.role,
            local_time(u.created_at, zone),
            local_time(u.last_sign_in_at, zone),
            "yes" if u.disabled else "",
        )
        for u in users
    ]
    print_table("Users", ["username", "role", "created", "last sign-in", "disabled"], rows)


@user_app.command("disable", cls=PlainCommand)
def user_disable(ctx: typer.Context, username: str) -> None:
    """Disable a user: their sessions end and they cannot sign in."""
    state = state_of(ctx)
    set_user_disabled(state.runtime().uow(), state.caller(), username, True)
    say(f"disabled {username}")


@user_app.command("enable", cls=PlainCommand)
def user_enable(ctx: typer.Context, username: str) -> None:
    """Let a disabled user sign in again."""
    state = state_of(ctx)
    set_user_disabled(state.runtime().uow(), state.caller(), username, False)
    say(f"enabled {username}")
