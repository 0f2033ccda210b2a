"""``doorcode property`` and ``doorcode lock``: the places, the devices, and their codes."""

from __future__ import annotations

# The JSON renderers, lock sync, asyncio and Rich's progress bars are imported where a command uses
# them, so that a listing does not pay for them at start-up (bench/cli_startup.py).
from collections import Counter
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from doorcode.cli.access import lock_log
from doorcode.cli.context import (
    JsonOption,
    parse_time,
    print_json,
    print_table,
    state_of,
    terminal,
)
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time, names_of
from doorcode.cli.providers import lock_import
from doorcode.cli.terminal_text import say
from doorcode.domain.code_policy import Alphabet, CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.services import locks, properties
from doorcode.services.errors import InvalidRequest
from doorcode.services.lock_sync import lock_codes, sync_summaries

if TYPE_CHECKING:
    from doorcode.store.models import Lock

property_app = typer.Typer(help="Properties and their lock groups.", no_args_is_help=True)
lock_app = typer.Typer(help="Locks (devices) and their capabilities.", no_args_is_help=True)


@property_app.command("add", cls=PlainCommand)
def property_add(
    ctx: typer.Context,
    name: str,
    zone: str = typer.Option(..., "--zone", help="IANA time zone, e.g. Europe/Lisbon."),
    check_in: str = typer.Option("15:00", help="Default check-in time (local).", metavar="HH:MM"),
    check_out: str = typer.Option("11:00", help="Default check-out time (local).", metavar="HH:MM"),
    code_length: int = typer.Option(6, help="Code length, 4 to 10."),
    alphabet: Alphabet = typer.Option(Alphabet.NUMERIC, help="numeric or alphanumeric."),
    external_id: str | None = typer.Option(None, help="The PMS's id for this property."),
    native_lead_minutes: int = typer.Option(
        72 * 60, help="Minutes ahead a code goes on locks that schedule codes themselves."
    ),
    unscheduled_lead_minutes: int = typer.Option(
        60, help="Minutes ahead a code goes on locks that cannot schedule codes."
    ),
    address: str = typer.Option("", help="Street address, shown in guest messages."),
    backup_codes: bool = typer.Option(
        False, help="Keep a backup code on the locks, for guests whose code fails."
    ),
    arrival_notices: bool = typer.Option(
        True, help="Tell the host at a guest's first opening, or when none by --no-show-at."
    ),
    no_show_at: str = typer.Option(
        "23:00", help="Local time of the no-show notice.", metavar="HH:MM"
    ),
    turnover_holder: str = typer.Option(
        "", help="Who gets a code from each check-out to the next check-in (a cleaner)."
    ),
    turnover_max_hours: int = typer.Option(24, help="The longest a turnover code lasts."),
) -> None:
    """Add a property."""
    state = state_of(ctx)
    details = properties.PropertyDetails(
        name=name,
        time_zone=zone,
        check_in_time=parse_time(check_in, "--check-in"),
        check_out_time=parse_time(check_out, "--check-out"),
        code_length=code_length,
        code_alphabet=alphabet,
        external_id=external_id,
        native_lead_minutes=native_lead_minutes,
        unscheduled_lead_minutes=unscheduled_lead_minutes,
        address=address,
        backup_codes=backup_codes,
        arrival_notices=arrival_notices,
        no_show_time=parse_time(no_show_at, "--no-show-at"),
        turnover_holder=turnover_holder.strip(),
        turnover_max_hours=turnover_max_hours,
    )
    prop = properties.add_property(state.runtime().uow(), state.caller(), details)
    say(f"added property {prop.name} ({prop.id})")


@property_app.command("list", cls=PlainCommand)
def property_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List properties with their locks."""
    state = state_of(ctx)
    found = properties.list_properties(state.runtime().uow(), state.caller())
    if as_json:
        from doorcode.api.rendering import property_body

        print_json([property_body(p) for p in found])
        return
    rows = [
        (
            p.name,
            p.id,
            p.time_zone,
            f"{p.check_in_time:%H:%M}–{p.check_out_time:%H:%M}",
            f"{p.code_length} {p.code_alphabet}",
            ", ".join(lock.name for lock in p.locks),
            turnover_text(p.turnover_holder, p.turnover_max_hours),
        )
        for p in found
    ]
    columns = ["name", "id", "zone", "in–out", "codes", "locks", "turnover"]
    print_table("Properties", columns, rows)


def turnover_text(holder: str, max_hours: int) -> str:
    """'Marta, up to 24 h' or '–' when the property gives no turnover codes."""
    return f"{holder}, up to {max_hours} h" if holder else "–"


@property_app.command("set", cls=PlainCommand)
def property_set(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., help="The property: id, external id or name."),
    name: str | None = typer.Option(None, help="A new name."),
    zone: str | None = typer.Option(None, "--zone", help="IANA time zone; stays follow it."),
    check_in: str | None = typer.Option(
        None, help="Default check-in time (local).", metavar="HH:MM"
    ),
    check_out: str | None = typer.Option(
        None, help="Default check-out time (local).", metavar="HH:MM"
    ),
    address: str | None = typer.Option(None, help="Street address, shown in guest messages."),
    turnover_holder: str | None = typer.Option(
        None, help="Who gets a code from each check-out to the next check-in (a cleaner)."
    ),
    turnover_max_hours: int | None = typer.Option(
        None, help="The longest a turnover code lasts, 1 to 336 hours."
    ),
    no_turnover: bool = typer.Option(
        False, "--no-turnover", help="Stop giving turnover codes (current ones are revoked)."
    ),
) -> None:
    """Change a property's settings; current codes follow a new zone, times or turnover."""
    changes: dict[str, object] = {}
    if name is not None:
        if not name.strip():
            raise typer.BadParameter("a property needs a name", param_hint="--name")
        changes["name"] = name.strip()
    if zone is not None:
        changes["time_zone"] = zone
    if check_in is not None:
        changes["check_in_time"] = parse_time(check_in, "--check-in")
    if check_out is not None:
        changes["check_out_time"] = parse_time(check_out, "--check-out")
    if address is not None:
        changes["address"] = address
    if no_turnover and turnover_holder is not None:
        raise typer.BadParameter("give --turnover-holder or --no-turnover, not both")
    if turnover_holder is not None:
        changes["turnover_holder"] = turnover_holder.strip()
    if no_turnover:
        changes["turnover_holder"] = ""
    if turnover_max_hours is not None:
        changes["turnover_max_hours"] = turnover_max_hours
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option")
    state = state_of(ctx)
    prop = properties.change_property(state.runtime().uow(), state.caller(), property_ref, changes)
    say(
        f"changed property {prop.name} ({prop.id}): {prop.time_zone}, "
        f"{prop.check_in_time:%H:%M}–{prop.check_out_time:%H:%M}, turnover "
        f"{turnover_text(prop.turnover_holder, prop.turnover_max_hours)}"
    )


@property_app.command("link", cls=PlainCommand)
def property_link(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., help="The property: id, external id or name."),
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
) -> None:
    """Add a lock to a property's group (by id, external id or name)."""
    state = state_of(ctx)
    prop = properties.link_lock(state.runtime().uow(), state.caller(), property_ref, lock_ref)
    say(f"{prop.name} now opens with: {', '.join(lock.name for lock in prop.locks)}")


@property_app.command("unlink", cls=PlainCommand)
def property_unlink(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., help="The property: id, external id or name."),
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
) -> None:
    """Take a lock out of a property's group."""
    state = state_of(ctx)
    prop = properties.unlink_lock(state.runtime().uow(), state.caller(), property_ref, lock_ref)
    say(f"{prop.name} now opens with: {', '.join(lock.name for lock in prop.locks) or '–'}")


@lock_app.command("add", cls=PlainCommand)
def lock_add(
    ctx: typer.Context,
    name: str,
    provider: str = typer.Option(
        "virtual", help="Back-end kind; real devices are better imported (`lock import`)."
    ),
    account: str | None = typer.Option(
        None, help="Provider account (label or id); default: the kind's first account."
    ),
    external_id: str | None = typer.Option(
        None, help="The provider's id (default: from the name)."
    ),
    min_length: int = typer.Option(4, help="Shortest code the keypad takes."),
    max_length: int = typer.Option(10, help="Longest code the keypad takes."),
    alphanumeric: bool = typer.Option(False, help="The keypad has letters."),
    zeros: bool = typer.Option(
        True, "--zeros/--no-zeros", help="Whether codes may hold a zero (not on some keypads)."
    ),
    enter_key: bool = typer.Option(True, help="The keypad has an enter key."),
    max_codes: int | None = typer.Option(None, help="How many codes the lock can store."),
    native_scheduling: bool = typer.Option(True, help="The lock enforces start and end itself."),
    offline_codes: bool = typer.Option(False, help="The lock checks offline codes."),
    online: bool = typer.Option(
        True, "--online/--offline", help="Whether the lock can be programmed over a network."
    ),
    property_ref: list[str] = typer.Option([], "--property", help="Link to this property."),
) -> None:
    """Record a lock, optionally linking it to properties."""
    if not 1 <= min_length <= max_length <= locks.LONGEST_KEYPAD_CODE:
        # Checked before the range is built: --max-length 10000000000 would fill the memory.
        raise typer.BadParameter(
            f"give 1 <= --min-length <= --max-length <= {locks.LONGEST_KEYPAD_CODE}",
            param_hint="--min-length/--max-length",
        )
    state = state_of(ctx)
    capabilities = LockCapabilities(
        code_lengths=frozenset(range(min_length, max_length + 1)),
        alphabet=Alphabet.ALPHANUMERIC if alphanumeric else Alphabet.NUMERIC,
        constraints=CodeConstraints(no_zeros=not zeros),
        max_codes=max_codes,
        native_scheduling=native_scheduling,
        online=online,
        offline_codes=offline_codes,
        enter_key=enter_key,
    )
    details = locks.LockDetails(
        name, provider, external_id, capabilities, account, tuple(property_ref)
    )
    lock = locks.add_lock(state.runtime().uow(), state.caller(), details)
    from doorcode.sync.provisioning import install_virtual_locks

    install_virtual_locks(state.runtime())
    say(f"added lock {lock.name} ({lock.id})")
    for reference in property_ref:
        say(f"linked to {reference}")


@lock_app.command("list", cls=PlainCommand)
def lock_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """List locks, the properties they serve, and where their codes stand."""
    state = state_of(ctx)
    found = locks.list_locks(state.runtime().uow(), state.caller())
    if as_json:
        from doorcode.api.rendering import lock_body

        print_json([lock_body(lock) for lock in found])
        return
    summaries = sync_summaries(state.runtime().uow(), state.caller())
    rows = [
        (
            lock.name,
            lock.id,
            lock.provider,
            ", ".join(p.name for p in lock.properties),
            _sync_column(lock, summaries.get(lock.id, Counter())),
            health_text(lock, _zone_of(lock)),
            local_time(lock.synced_at, _zone_of(lock)) if lock.synced_at else None,
        )
        for lock in found
    ]
    columns = ["name", "id", "provider", "properties", "codes", "health", "last sync"]
    print_table("Locks", columns, rows)


def _zone_of(lock: Lock) -> tzinfo:
    """The clock of the lock's first property (UTC for a lock that serves none)."""
    return ZoneInfo(lock.properties[0].time_zone) if lock.properties else UTC


def health_text(lock: Lock, zone: tzinfo = UTC) -> str:
    """'online, battery 80%, seen …' as the back-end last reported, on the lock's property's
    clock; '–' when it says nothing."""
    parts = []
    if lock.health_online is not None:
        parts.append("online" if lock.health_online else "offline")
    if lock.health_battery is not None:
        parts.append(f"battery {lock.health_battery}%")
    if lock.health_contact_at is not None:
        parts.append(f"seen {local_time(lock.health_contact_at, zone)}")
    return ", ".join(parts) or "–"


def _sync_column(lock: Lock, statuses: Counter[str]) -> str:
    """'2 set, 1 waiting for lead time' and the lock's own error, if any."""
    counts = ", ".join(
        f"{count} {status.replace('_', ' ')}" for status, count in sorted(statuses.items())
    )
    problem = f"error: {lock.sync_error}" if lock.sync_error else ""
    return "; ".join(part for part in (counts, problem) if part) or "–"


@lock_app.command("sync", cls=PlainCommand)
def lock_sync(
    ctx: typer.Context,
    lock_ref: str | None = typer.Argument(None, help="One lock (default: every lock)."),
) -> None:
    """Reconcile now: make the lock(s) hold exactly their codes, ignoring backoffs."""
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    if lock_ref is not None:
        chosen = [locks.find_lock(runtime.uow(), caller, lock_ref)]
    else:
        chosen = locks.list_locks(runtime.uow(), caller)
    lock_ids = [lock.id for lock in chosen]
    zones = {lock.id: _zone_of(lock) for lock in chosen}
    import asyncio

    from rich.progress import Progress

    from doorcode.sync.provisioning import install_virtual_locks
    from doorcode.sync.reconciler import Reconciler

    install_virtual_locks(runtime)
    reconciler = Reconciler.from_runtime(runtime, batch_size=50)
    with Progress(console=terminal(), transient=True) as progress:
        task = progress.add_task("Reconciling locks", total=len(lock_ids))
        outcomes = asyncio.run(
            reconciler.reconcile(
                lock_ids, force=True, progress=lambda done: progress.advance(task, done)
            )
        )
    rows = [
        (o.lock_name, o.summary, local_time(o.next_sync_at, zones.get(o.lock_id, UTC)))
        for o in outcomes
    ]
    print_table("Lock sync", ["lock", "outcome", "next visit"], rows)
    failing = [o for o in outcomes if o.error or o.failed]
    if failing:
        raise InvalidRequest(f"{len(failing)} of {len(outcomes)} lock(s) are not in sync yet")


@lock_app.command("remove", cls=PlainCommand)
def lock_remove(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    forget_unreachable: bool = typer.Option(
        False, "--forget-unreachable", help="Forget it even if its codes could not be removed."
    ),
) -> None:
    """Remove a lock: its codes leave the device, grants keep their other locks, then it goes."""
    state = state_of(ctx)
    from doorcode.services.lock_removal import remove_lock

    removal = remove_lock(
        state.runtime(), state.caller(), lock_ref, forget_anyway=forget_unreachable
    )
    say(
        f"removed lock {removal.lock_name} ({removal.lock_id}): {removal.codes_deleted} code(s) "
        f"deleted from the device, {len(removal.grants_changed)} grant(s) no longer on it"
    )
    if removal.forgotten_unreachable:
        say("its codes could not be removed from the device: clear it by hand", err=True)


@lock_app.command("slots", cls=PlainCommand)
def lock_slots_command(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    slots: str | None = typer.Argument(
        None, help="The slots doorcode may write, first-last (like 4-30); omit to show them."
    ),
    default: bool = typer.Option(
        False, "--default", help="Back to the default: every slot but the first three."
    ),
) -> None:
    """Show or set the code slots doorcode may write on a Z-Wave or Zigbee lock."""
    from doorcode.domain.slots import parse_slot_range
    from doorcode.services.lock_slots import lock_slots, set_lock_slots

    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    if slots is not None and default:
        raise InvalidRequest("give a range or --default, not both")
    if slots is None and not default:
        view = lock_slots(runtime.uow(), caller, runtime.providers, lock_ref)
    else:
        wanted = parse_slot_range(slots) if slots is not None else None
        view = set_lock_slots(runtime.uow(), caller, runtime.providers, lock_ref, wanted)
    if view.owned is None:
        say(f"{view.lock.name}: its slot count is unknown; doorcode writes none")
    else:
        whose = "set by you" if view.chosen else "the default"
        say(f"{view.lock.name}: doorcode writes slots {view.owned} ({whose})")
    for slot, grant_id in sorted(view.held.items()):
        say(f"  slot {slot}: {grant_id}")


@lock_app.command("codes", cls=PlainCommand)
def lock_codes_command(
    ctx: typer.Context,
    lock_ref: str = typer.Argument(..., help="The lock: id, external id or name."),
    include_past: bool = typer.Option(False, "--all", help="Also grants that are over."),
    as_json: bool = JsonOption,
) -> None:
    """Each grant's code on one lock: desired against actual (codes are masked)."""
    state = state_of(ctx)
    view = lock_codes(state.runtime().uow(), state.caller(), lock_ref, include_past=include_past)
    if as_json:
        from doorcode.api.rendering import lock_codes_body

        print_json(lock_codes_body(view))
        return
    names = names_of(state)
    rows = [
        (
            code.grant.holder or code.grant.kind,
            code.grant.id,
            local_time(code.grant.starts_at, names.zone(code.grant.property_id)),
            local_time(code.grant.ends_at, names.zone(code.grant.property_id)),
            "••••••",
            code.lock_code.desired,
            code.lock_code.actual,
            code.status.value.replace("_", " "),
            code.lock_code.last_error,
        )
        for code in view.codes
    ]
    columns = ["holder", "grant", "from", "to", "code", "desired", "actual", "status", "last error"]
    print_table(f"Codes on {view.lock.name}", columns, rows)


lock_app.command("log", cls=PlainCommand)(lock_log)
lock_app.command("import", cls=PlainCommand)(lock_import)
