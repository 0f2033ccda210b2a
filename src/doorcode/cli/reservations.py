"""``doorcode reservation``: record, list, show and cancel stays."""

from __future__ import annotations

import secrets

import typer

from doorcode.cli.context import (
    JsonOption,
    parse_date,
    parse_time,
    print_json,
    print_table,
    state_of,
)
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time, names_of
from doorcode.cli.terminal_text import say
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services import backup_codes, grants, reservations
from doorcode.store.repositories import ReservationFilter

reservation_app = typer.Typer(help="Reservations (stays).", no_args_is_help=True)


@reservation_app.command("add", cls=PlainCommand)
def reservation_add(
    ctx: typer.Context,
    property_ref: str = typer.Option(
        ..., "--property", help="Property id, external id or name.", metavar="PROPERTY"
    ),
    check_in: str = typer.Option(..., help="Arrival date, YYYY-MM-DD.", metavar="DATE"),
    check_out: str = typer.Option(..., help="Departure date, YYYY-MM-DD.", metavar="DATE"),
    check_in_time: str | None = typer.Option(
        None, help="Early check-in, HH:MM local.", metavar="HH:MM"
    ),
    check_out_time: str | None = typer.Option(
        None, help="Late check-out, HH:MM local.", metavar="HH:MM"
    ),
    guest: str = typer.Option("", help="Guest name."),
    email: str | None = typer.Option(None, help="Guest email."),
    phone: str | None = typer.Option(None, help="Guest phone, with country code."),
    locale: str | None = typer.Option(None, help="Guest language for messages, e.g. pt-BR."),
    status: ReservationStatus = typer.Option(ReservationStatus.CONFIRMED),
    source: str | None = typer.Option(
        None, help="Where the booking comes from (default: the one that knows the id, else cli)."
    ),
    external_id: str | None = typer.Option(None, help="The source's id (default: a new one)."),
    booking_reference: str | None = typer.Option(
        None, help="The channel's own number, e.g. Airbnb's HM... code."
    ),
) -> None:
    """Record a reservation; the same source and external id again updates it."""
    state = state_of(ctx)
    stay = Stay(
        parse_date(check_in, "--check-in"),
        parse_date(check_out, "--check-out"),
        None if check_in_time is None else parse_time(check_in_time, "--check-in-time"),
        None if check_out_time is None else parse_time(check_out_time, "--check-out-time"),
    )
    contact = _checked_guest(guest, email, phone, locale)
    caller = state.caller()
    if source is None and external_id:  # the booking an API or PMS already recorded, if any
        source = reservations.source_for(state.runtime().uow(), caller, external_id, "cli")
    details = reservations.ReservationDetails(
        source=source or "cli",
        external_id=external_id or f"cli-{secrets.token_hex(4)}",
        property_ref=property_ref,
        status=status,
        stay=stay,
        guest=contact,
        booking_reference=booking_reference,
    )
    outcome = reservations.record_reservation(state.runtime().uow(), caller, details)
    grant = f", grant {outcome.grant.id}" if outcome.grant else ""
    say(f"{outcome.change.value}: reservation {outcome.reservation.id}{grant}")


def _checked_guest(
    name: str, email: str | None, phone: str | None, locale: str | None
) -> reservations.Guest:
    """The contact, checked by the rules every other entry point applies."""
    from pydantic import ValidationError

    from doorcode.domain.reservations import CONTACT_PATTERN_WORDS
    from doorcode.sources.webhook_payload import GuestV1

    try:
        checked = GuestV1(name=name, email=email, phone=phone, locale=locale)
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "guest"
        option = "--guest" if field == "name" else f"--{field}"
        words = CONTACT_PATTERN_WORDS.get(str((first.get("ctx") or {}).get("pattern")))
        message = f"{first['input']!r} {words}" if words else first["msg"]
        raise typer.BadParameter(message, param_hint=option) from err
    return reservations.Guest(
        name=checked.name, email=checked.email, phone=checked.phone, locale=checked.locale
    )


@reservation_app.command("list", cls=PlainCommand)
def reservation_list(
    ctx: typer.Context,
    status: ReservationStatus | None = typer.Option(None),
    property_ref: str | None = typer.Option(
        None, "--property", help="Only this property (id, external id or name).", metavar="PROPERTY"
    ),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """List reservations, soonest check-in first."""
    state = state_of(ctx)
    which = ReservationFilter(
        status=status.value if status else None, property_id=property_ref, limit=limit
    )
    views = reservations.list_reservations(state.runtime().uow(), state.caller(), which)
    if as_json:
        from doorcode.api.rendering import reservation_body

        print_json([reservation_body(view.reservation, view.grant) for view in views])
        return
    rows = [
        (
            r.id,
            r.source,
            r.external_id,
            r.property.name,
            r.status,
            r.check_in,
            r.check_out,
            r.guest_name,
            g.id if g else None,
        )
        for r, g in views
    ]
    columns = ["id", "source", "external id", "property", "status", "in", "out", "guest", "grant"]
    print_table("Reservations", columns, rows)


@reservation_app.command("show", cls=PlainCommand)
def reservation_show(ctx: typer.Context, reservation_id: str, as_json: bool = JsonOption) -> None:
    """Show one reservation: the stay on the property's clock, the guest and the grant."""
    state = state_of(ctx)
    runtime = state.runtime()
    view = reservations.get_reservation(runtime.uow(), state.caller(), reservation_id)
    from doorcode.api.rendering import reservation_body

    body = reservation_body(view.reservation, view.grant)
    if as_json:
        print_json(body)
        return
    names = names_of(state)
    zone = names.zone(body.property_id)
    guest = body.guest
    fields = [
        ("reservation", body.id),
        ("property", names.property(body.property_id)),
        ("status", body.status.value),
        ("source", f"{body.source} {body.external_id}"),
        ("booking reference", body.booking_reference or "–"),
        ("check-in", local_time(body.starts_at, zone)),
        ("check-out", local_time(body.ends_at, zone)),
        ("guest", guest.name or "–"),
        ("email", guest.email or "–"),
        ("phone", guest.phone or "–"),
        ("language", guest.locale or "–"),
        ("grant", body.grant_id or "–"),
    ]
    if view.grant is not None:
        fields.append(("code", grants.state_of(view.grant, runtime.clock()).value))
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        say(f"{name + ':':<{width + 2}}{value}")


@reservation_app.command("cancel", cls=PlainCommand)
def reservation_cancel(
    ctx: typer.Context, reservation_id: str, reason: str = typer.Option("", help="Kept in the log.")
) -> None:
    """Cancel a reservation; its code leaves every lock."""
    state = state_of(ctx)
    reservations.cancel_reservation(state.runtime().uow(), state.caller(), reservation_id, reason)
    say(f"cancelled reservation {reservation_id}")


@reservation_app.command("backup-code", cls=PlainCommand)
def reservation_backup_code(ctx: typer.Context, reservation_id: str) -> None:
    """Give the guest the property's backup code until check-out; the guest is told."""
    state = state_of(ctx)
    released = backup_codes.release_backup_code(
        state.runtime().uow(), state.caller(), reservation_id
    )
    if released is None:
        say("Error: this property keeps no backup code (property setting backup_codes)")
        raise typer.Exit(code=1)
    zone = names_of(state).zone(released.property_id)
    say(f"released backup grant {released.id} until {local_time(released.ends_at, zone)}")
