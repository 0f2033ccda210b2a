"""Setting up: the database schema, organisations and API keys."""

from __future__ import annotations

import typer

from doorcode.cli.context import print_table, state_of
from doorcode.services.api_keys import create_api_key, list_api_keys
from doorcode.services.caller import Role
from doorcode.services.organisations import create_organisation
from doorcode.store.migrate import upgrade

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations (hosts or property managers).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machines.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (serve and the other commands do this too)."""
    runtime = state_of(ctx).runtime()
    upgrade(runtime.engine, runtime.cipher)
    typer.echo("database is up to date")


@org_app.command("add")
def org_add(
    ctx: typer.Context, slug: str, name: str = typer.Option("", help="Display name.")
) -> None:
    """Create an organisation."""
    organisation = create_organisation(state_of(ctx).runtime().uow(), slug, name)
    typer.echo(f"created organisation {organisation.slug} ({organisation.id})")


@org_app.command("list")
def org_list(ctx: typer.Context) -> None:
    """List organisations."""
    with state_of(ctx).runtime().uow() as uow:
        organisations = uow.organisations.all()
    print_table(
        "Organisations", ["slug", "name", "id"], [(o.slug, o.name, o.id) for o in organisations]
    )


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    name: str,
    role: Role = typer.Option(Role.MANAGER, help="owner, manager or viewer."),
) -> None:
    """Create an API key; it is printed once and cannot be shown again."""
    state = state_of(ctx)
    issued = create_api_key(state.runtime().uow(), state.caller(), name, role)
    typer.echo(issued.secret)
    typer.echo(
        f"{role.value} key {name!r} created; store it now, it is not kept in clear.", err=True
    )


@apikey_app.command("list")
def apikey_list(ctx: typer.Context) -> None:
    """List API keys (prefixes only)."""
    state = state_of(ctx)
    keys = list_api_keys(state.runtime().uow(), state.caller())
    rows = [(k.name, k.role, f"dck_{k.prefix}_…", k.created_at, k.last_used_at) for k in keys]
    print_table("API keys", ["name", "role", "key", "created", "last used"], rows)
