"""``doorcode offline``: key groups, and codes for locks that never reach the network."""

from __future__ import annotations

from datetime import tzinfo

import typer

from doorcode.cli.context import parse_instant, print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time
from doorcode.cli.terminal_text import say
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.services import offline_codes

offline_app = typer.Typer(
    help="Offline codes: the window travels inside the digits.", no_args_is_help=True
)
group_app = typer.Typer(
    help="Key groups: locks that share one offline-code key.", no_args_is_help=True
)
offline_app.add_typer(group_app, name="group")

GroupOption = typer.Option(..., "--lock-group", "--key-group", help="Key group id or name.")


@group_app.command("add", cls=PlainCommand)
def group_add(
    ctx: typer.Context,
    name: str,
    lock_refs: list[str] = typer.Option(..., "--lock", help="A lock of the group (repeatable)."),
    digits: int = typer.Option(10, min=8, max=12, help="Code length."),
) -> None:
    """Create a key group with a fresh 256-bit key."""
    state = state_of(ctx)
    group = offline_codes.create_key_group(
        state.runtime().uow(), state.caller(), name, tuple(lock_refs), digits
    )
    say(
        f"created key group {group.name} ({group.id}); export its key with "
        f"`doorcode offline group export {group.name}`"
    )


@group_app.command("list", cls=PlainCommand)
def group_list(ctx: typer.Context) -> None:
    """List key groups."""
    state = state_of(ctx)
    groups = offline_codes.list_key_groups(state.runtime().uow(), state.caller())
    rows = [
        (
            g.name,
            g.id,
            g.digits,
            local_time(g.epoch, offline_codes.zone_of_key_group(g)),
            g.key_version,
            "yes" if g.key_exported_at else "no",
            ", ".join(lock.name for lock in g.locks),
        )
        for g in groups
    ]
    print_table("Key groups", ["name", "id", "digits", "epoch", "key", "exported", "locks"], rows)


@group_app.command("export", cls=PlainCommand)
def group_export(ctx: typer.Context, group: str) -> None:
    """Print the key and programming code for the locks; this works once per key."""
    state = state_of(ctx)
    export = offline_codes.export_key_group(state.runtime().uow(), state.caller(), group)
    say(f"group id:          {export.group_uuid}")
    say(f"epoch:             {export.epoch.isoformat()} ({int(export.epoch.timestamp())})")
    say(f"digits:            {export.digits}")
    say(f"key (AES-256):     {export.key_hex}")
    say(f"programming code:  {export.programming_code}")
    say("Load these into every lock of the group now; they will not be shown again.", err=True)


@group_app.command("provision", cls=PlainCommand)
def group_provision(ctx: typer.Context, group: str) -> None:
    """Load the key into the group's virtual locks; neither needs nor spends its one export."""
    state = state_of(ctx)
    runtime = state.runtime()
    loaded = offline_codes.provision_virtual_locks(
        runtime.uow(), state.caller(), runtime.providers, group
    )
    say(f"loaded the key into: {', '.join(loaded)}")


@group_app.command("rotate", cls=PlainCommand)
def group_rotate(ctx: typer.Context, group: str) -> None:
    """Give the group a new key: every outstanding code stops working on reprovisioned locks."""
    state = state_of(ctx)
    rotated = offline_codes.rotate_key_group(state.runtime().uow(), state.caller(), group)
    say(
        f"key group {rotated.name} has key version {rotated.key_version}; export it and "
        "load it into every lock"
    )


@offline_app.command("issue", cls=PlainCommand)
def offline_issue(
    ctx: typer.Context,
    group: str = GroupOption,
    starts: str = typer.Option(
        ..., "--from", help="Start, ISO 8601 with offset.", metavar="INSTANT"
    ),
    ends: str = typer.Option(..., "--to", help="End, ISO 8601 with offset.", metavar="INSTANT"),
    holder: str = typer.Option("", help="Who the code is for."),
    kind: GrantKind = typer.Option(GrantKind.MANUAL, help="guest, staff, master or manual."),
) -> None:
    """Issue an offline code; the window it opens covers the one asked for."""
    state = state_of(ctx)
    requested = TimeWindow(parse_instant(starts, "--from"), parse_instant(ends, "--to"))
    issued = offline_codes.issue_offline_grant(
        state.runtime().uow(), state.caller(), group, requested, holder, kind
    )
    zone = offline_codes.key_group_zone(state.runtime().uow(), state.caller(), group)
    say(f"code:      {issued.code}")
    say(f"opens:     {_window(issued.issued, zone)}")
    say(f"asked for: {_window(issued.requested, zone)}")
    say(f"grant:     {issued.grant.id}")


@offline_app.command("check", cls=PlainCommand)
def offline_check(
    ctx: typer.Context,
    code: str,
    group: str = GroupOption,
    at: str | None = typer.Option(
        None, help="Instant to check, ISO 8601 with offset (now).", metavar="INSTANT"
    ),
) -> None:
    """Say which window a code carries and whether it opens (for diagnosing a lockout)."""
    state = state_of(ctx)
    runtime = state.runtime()
    moment = parse_instant(at, "--at") if at else runtime.clock()
    found = offline_codes.check_offline_code(runtime.uow(), state.caller(), group, code, moment)
    if found.window is None:
        say("not a code of this key group (mistyped, or another group's)")
        raise typer.Exit(code=1)
    zone = offline_codes.key_group_zone(runtime.uow(), state.caller(), group)
    say(f"window:  {_window(found.window, zone)}")
    say(f"blocked: {'yes' if found.blocked else 'no'}")
    say(f"grant:   {found.grant_id or '–'}")
    opens = "opens" if found.opens_at else "does not open"
    say(f"at {local_time(moment, zone)}: {opens}")


@offline_app.command("block", cls=PlainCommand)
def offline_block(ctx: typer.Context, code: str, group: str = GroupOption) -> None:
    """Block a code (revoking its grant) and print what to type at each lock of the group."""
    state = state_of(ctx)
    blocked = offline_codes.block_offline_code(state.runtime().uow(), state.caller(), group, code)
    say(f"type at every lock of the group (# is Enter): {blocked.sequence.keys}")
    say(f"block: {blocked.block_id}")
    say(
        f"once typed at every lock: doorcode offline block-done {blocked.block_id} "
        f"--lock-group {group}"
    )


@offline_app.command("blocks", cls=PlainCommand)
def offline_blocks(ctx: typer.Context, group: str = GroupOption) -> None:
    """Blocks still to be typed at the locks, with their sequences (# is Enter)."""
    state = state_of(ctx)
    pending = offline_codes.pending_blocks(state.runtime().uow(), state.caller(), group)
    zone = offline_codes.key_group_zone(state.runtime().uow(), state.caller(), group)
    rows = [(b.id, local_time(b.blocked_at, zone), b.grant_id, seq.keys) for b, seq in pending]
    print_table("Blocks", ["id", "blocked", "grant", "type at the keypad"], rows)


@offline_app.command("block-done", cls=PlainCommand)
def offline_block_done(ctx: typer.Context, block_id: str, group: str = GroupOption) -> None:
    """Mark a block as typed at every lock of the group; `offline blocks` stops listing it."""
    state = state_of(ctx)
    offline_codes.mark_block_entered(state.runtime().uow(), state.caller(), group, block_id)
    say(f"block {block_id} marked as typed at the locks")


def _window(window: TimeWindow, zone: tzinfo) -> str:
    """Both ends on the group's property's clock, with its zone."""
    return f"{local_time(window.starts_at, zone)} → {local_time(window.ends_at, zone)}"
