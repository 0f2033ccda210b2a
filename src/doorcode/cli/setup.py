"""Setting up: the installation, the database schema, organisations and API keys."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import typer

from doorcode.cli.context import print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.installation import InstallationConfig, read_config, write_config
from doorcode.cli.names import local_time, organisation_zone
from doorcode.cli.terminal_text import say
from doorcode.config import Settings
from doorcode.services.api_keys import create_api_key, list_api_keys
from doorcode.services.caller import Role
from doorcode.services.host_contact import HostContact, get_host_contact, set_host_contact
from doorcode.services.organisations import create_organisation, resolve_organisation

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations (hosts or property managers).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machines.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None, help="Where the installation lives (default: DOORCODE_DATA_DIR, else ./var)."
    ),
) -> None:
    """Create an installation (database, secret key) and remember it in the config file."""
    state = state_of(ctx)
    if data_dir is not None:
        state.settings_factory = partial(Settings, data_dir=data_dir)
    settings = state.runtime(create=True).settings
    remembered = read_config()
    path = write_config(InstallationConfig(settings.data_dir, remembered.organisation))
    say(f"doorcode installation in {settings.data_dir} (remembered in {path})")


@db_app.command("upgrade", cls=PlainCommand)
def db_upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (serve and the other commands do this too)."""
    from doorcode.store.migrate import upgrade  # Alembic is slow to import: only here

    runtime = state_of(ctx).runtime()
    upgrade(runtime.engine, runtime.cipher)
    say("database is up to date")


@org_app.command("add", cls=PlainCommand)
def org_add(
    ctx: typer.Context, slug: str, name: str = typer.Option("", help="Display name.")
) -> None:
    """Create an organisation."""
    runtime = state_of(ctx).runtime()
    organisation = create_organisation(runtime.uow(), slug, name)
    say(f"created organisation {organisation.slug} ({organisation.id})")
    with runtime.uow() as uow:
        several = len(uow.organisations.all()) > 1
    if several:
        say(
            f"several organisations exist now: `doorcode org use {organisation.slug}` makes "
            "later commands act for it (or give --org)"
        )


@org_app.command("contact", cls=PlainCommand)
def host_contact(
    ctx: typer.Context,
    name: str | None = typer.Option(None, help="Name guests know you by."),
    email: str | None = typer.Option(None, help="Email guests may write to."),
    phone: str | None = typer.Option(None, help="Phone guests may call."),
) -> None:
    """Show or set who guests are told to contact (without options: show)."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    organisation, current = get_host_contact(runtime.uow(), caller)
    if name is not None or email is not None or phone is not None:
        current = set_host_contact(
            runtime.uow(),
            caller,
            HostContact(
                current.name if name is None else name,
                (email or None) if email is not None else current.email,
                (phone or None) if phone is not None else current.phone,
            ),
        )
    shown = current.name or f"{organisation.name} (the organisation's name)"
    say(f"host: {shown}; email: {current.email or '–'}; phone: {current.phone or '–'}")


@org_app.command("use", cls=PlainCommand)
def org_use(ctx: typer.Context, slug: str) -> None:
    """Act for this organisation in every later command (kept in the config file)."""
    organisation = resolve_organisation(state_of(ctx).runtime().uow(), slug)
    remembered = read_config()
    path = write_config(InstallationConfig(remembered.data_dir, organisation.slug))
    say(f"later commands act for {organisation.slug} (remembered in {path})")


@org_app.command("list", cls=PlainCommand)
def org_list(ctx: typer.Context) -> None:
    """List organisations."""
    with state_of(ctx).runtime().uow() as uow:
        organisations = uow.organisations.all()
    print_table(
        "Organisations", ["slug", "name", "id"], [(o.slug, o.name, o.id) for o in organisations]
    )


@apikey_app.command("create", cls=PlainCommand)
def apikey_create(
    ctx: typer.Context,
    name: str,
    role: Role = typer.Option(Role.MANAGER, help="owner, manager or viewer."),
) -> None:
    """Create an API key; it is printed once and cannot be shown again."""
    state = state_of(ctx)
    issued = create_api_key(state.runtime().uow(), state.caller(), name, role)
    say(issued.secret)
    say(f"{role.value} key {name!r} created; store it now, it is not kept in clear.", err=True)


@apikey_app.command("list", cls=PlainCommand)
def apikey_list(ctx: typer.Context) -> None:
    """List API keys (prefixes only)."""
    state = state_of(ctx)
    keys = list_api_keys(state.runtime().uow(), state.caller())
    zone = organisation_zone(state)
    rows = [
        (
            k.name,
            k.role,
            f"dck_{k.prefix}_…",
            local_time(k.created_at, zone),
            local_time(k.last_used_at, zone),
        )
        for k in keys
    ]
    print_table("API keys", ["name", "role", "key", "created", "last used"], rows)
