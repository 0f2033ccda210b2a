"""``doorcode schedule``: recurring staff codes, made, listed, changed and revoked as one."""

from __future__ import annotations

import typer

from doorcode.api.schedules import schedule_body
from doorcode.cli.context import (
    JsonOption,
    parse_date,
    parse_time,
    print_json,
    print_table,
    state_of,
)
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.terminal_text import say
from doorcode.domain.windows import zone_named
from doorcode.services import schedules

schedule_app = typer.Typer(
    help="Staff schedules: one recurring code, e.g. the cleaner every Tuesday 10:00-14:00.",
    no_args_is_help=True,
)

DAY_NAMES = {name.lower(): number for number, name in enumerate(schedules.WEEKDAY_NAMES)}


# The options that say when a schedule's windows are, shared by ``add`` and ``change``.
PropertiesOption = typer.Option(
    ...,
    "--property",
    help="A property (id, external id or name); repeat for several.",
    metavar="PROPERTY",
)
WeekdaysOption = typer.Option(
    [],
    "--on",
    help="A weekday (mon … sun); repeat for several. Leave out for every day.",
    metavar="WEEKDAY",
)
StartsOption = typer.Option(
    ..., "--from", help="Local start time on each property, 10:00.", metavar="HH:MM"
)
EndsOption = typer.Option(
    ..., "--to", help="Local end time; at or before --from: next day.", metavar="HH:MM"
)
FirstDayOption = typer.Option(..., "--first", help="First day, 2026-12-01.", metavar="DATE")
LastDayOption = typer.Option(
    ..., "--last", help="Last day (at most 366 days after the first).", metavar="DATE"
)
DaysOffOption = typer.Option([], "--except", help="A day off; repeat for several.", metavar="DATE")


@schedule_app.command("add", cls=PlainCommand)
def schedule_add(
    ctx: typer.Context,
    holder: str = typer.Argument(..., help="Who it is for, e.g. 'Marta (cleaner)'."),
    properties: list[str] = PropertiesOption,
    on: list[str] = WeekdaysOption,
    starts: str = StartsOption,
    ends: str = EndsOption,
    first: str = FirstDayOption,
    last: str = LastDayOption,
    days_off: list[str] = DaysOffOption,
) -> None:
    """Create a schedule; each window becomes a staff code on each property's locks."""
    state = state_of(ctx)
    details = _details(holder, properties, on, starts, ends, first, last, days_off)
    made = schedules.create_schedule(state.runtime().uow(), state.caller(), details)
    view = schedules.get_schedule(state.runtime().uow(), state.caller(), made.id)
    say(
        f"created: schedule {made.id} ({details.summary}), "
        f"{len(view.live_grants)} windows at {', '.join(view.property_names)}"
    )
    _say_clock_notes(view)


@schedule_app.command("list", cls=PlainCommand)
def schedule_list(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Every schedule, live ones first."""
    state = state_of(ctx)
    found = schedules.list_schedules(state.runtime().uow(), state.caller())
    if as_json:
        print_json([schedule_body(view) for view in found])
        return
    rows = [
        (
            view.schedule.id,
            view.details.holder,
            view.details.summary,
            ", ".join(view.property_names),
            f"{view.details.first_day} – {view.details.last_day}",
            "revoked" if view.schedule.revoked_at else len(view.live_grants),
        )
        for view in found
    ]
    columns = ["id", "holder", "when (local)", "where", "days", "windows"]
    print_table("Staff schedules", columns, rows)


@schedule_app.command("show", cls=PlainCommand)
def schedule_show(ctx: typer.Context, schedule_id: str) -> None:
    """One schedule and its windows, each on its property's clock."""
    state = state_of(ctx)
    view = schedules.get_schedule(state.runtime().uow(), state.caller(), schedule_id)
    names = {prop.id: (prop.name, zone_named(prop.time_zone)) for prop in view.schedule.properties}
    say(f"{view.details.holder}: {view.details.summary}")
    rows = []
    for grant in view.grants:
        name, zone = names.get(grant.property_id or "", ("?", zone_named("UTC")))
        starts, ends = grant.starts_at.astimezone(zone), grant.ends_at.astimezone(zone)
        state_word = "revoked" if grant.revoked_at else "live"
        rows.append((grant.id, name, f"{starts:%a %d %b %Y %H:%M %Z}", f"{ends:%H:%M}", state_word))
    print_table("Windows", ["grant", "property", "from", "until", "state"], rows)
    _say_clock_notes(view)


def _say_clock_notes(view: schedules.ScheduleView) -> None:
    """Name each day a spring-forward change moves: the operator should know, not guess."""
    for note in view.notes:
        say(f"Note: {note}", err=True)


@schedule_app.command("change", cls=PlainCommand)
def schedule_change(
    ctx: typer.Context,
    schedule_id: str,
    properties: list[str] = PropertiesOption,
    on: list[str] = WeekdaysOption,
    starts: str = StartsOption,
    ends: str = EndsOption,
    first: str = FirstDayOption,
    last: str = LastDayOption,
    days_off: list[str] = DaysOffOption,
    holder: str | None = typer.Option(None, help="A new name for who it is for."),
) -> None:
    """Replace the schedule: windows that stay keep their code, others go or come."""
    state = state_of(ctx)
    current = schedules.get_schedule(state.runtime().uow(), state.caller(), schedule_id)
    who = holder or current.details.holder
    details = _details(who, properties, on, starts, ends, first, last, days_off)
    schedules.change_schedule(state.runtime().uow(), state.caller(), schedule_id, details)
    say(f"changed: schedule {schedule_id} ({details.summary})")
    _say_clock_notes(schedules.get_schedule(state.runtime().uow(), state.caller(), schedule_id))


@schedule_app.command("revoke", cls=PlainCommand)
def schedule_revoke(
    ctx: typer.Context, schedule_id: str, reason: str = typer.Option("", help="For the audit log.")
) -> None:
    """Revoke the schedule and every window not over yet."""
    state = state_of(ctx)
    count = schedules.revoke_schedule(state.runtime().uow(), state.caller(), schedule_id, reason)
    say(f"revoked: schedule {schedule_id}, {count} windows taken off the locks")


def _details(
    holder: str,
    properties: list[str],
    on: list[str],
    starts: str,
    ends: str,
    first: str,
    last: str,
    days_off: list[str],
) -> schedules.ScheduleDetails:
    weekdays = frozenset(_weekday(day) for day in on)
    return schedules.ScheduleDetails(
        holder=holder,
        property_refs=tuple(properties),
        frequency=schedules.Frequency.WEEKLY if weekdays else schedules.Frequency.DAILY,
        starts=parse_time(starts, "--from"),
        ends=parse_time(ends, "--to"),
        first_day=parse_date(first, "--first"),
        last_day=parse_date(last, "--last"),
        weekdays=weekdays,
        except_days=frozenset(parse_date(day, "--except") for day in days_off),
    )


def _weekday(name: str) -> int:
    found = DAY_NAMES.get(name.strip().lower()[:3])
    if found is None:
        raise typer.BadParameter(f"{name!r} is not a weekday like tue", param_hint="--on")
    return found
