"""``doorcode template``, ``messages``, ``rules`` and ``org contact``: guest messages."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import typer

from doorcode.api.messages import chosen_body, log_body, rules_body, saved_body
from doorcode.cli.context import JsonOption, parse_time, print_json, print_table, state_of
from doorcode.cli.help_text import PlainCommand
from doorcode.cli.names import local_time, names_of
from doorcode.cli.terminal_text import say
from doorcode.domain.messages import ChannelName, DeliveryStatus, MessagePurpose, MessageStatus
from doorcode.notify.channels import channels_from_settings
from doorcode.notify.errors import InvalidTemplate
from doorcode.notify.loop import run_messages_once
from doorcode.notify.templates import TemplateParts
from doorcode.notify.variables import DESCRIPTIONS
from doorcode.services import message_rules, message_templates, messages
from doorcode.services.dashboard import display_zone
from doorcode.services.message_templates import TemplateKey
from doorcode.services.properties import list_properties
from doorcode.store.message_repository import MessageFilter

__all__ = ["messages_app", "rules_app", "template_app"]

template_app = typer.Typer(help="Guest message templates.", no_args_is_help=True)
messages_app = typer.Typer(help="Guest messages: the notification log.", no_args_is_help=True)
rules_app = typer.Typer(help="When guest messages are sent, per property.", no_args_is_help=True)

PropertyOption = typer.Option(None, "--property", help="Property; absent: account-wide.")


@template_app.command("list", cls=PlainCommand)
def template_list(
    ctx: typer.Context, property_ref: str | None = PropertyOption, as_json: bool = JsonOption
) -> None:
    """List saved templates (the built-in English ones apply wherever none is saved)."""
    state = state_of(ctx)
    found = message_templates.list_templates(state.runtime().uow(), state.caller(), property_ref)
    if as_json:
        print_json([saved_body(template) for template in found])
        return
    # Named and on the property's clock, as the dashboard shows them; account-wide templates
    # on the organisation's common clock (UTC when the properties do not share one).
    names = names_of(state)
    account_zone = display_zone(list_properties(state.runtime().uow(), state.caller()))
    rows = [
        (
            t.id,
            names.property(t.property_id) or "(account)",
            t.purpose,
            t.channel,
            t.locale,
            local_time(t.updated_at, names.zone(t.property_id) if t.property_id else account_zone),
        )
        for t in found
    ]
    print_table("Templates", ["id", "property", "purpose", "channel", "locale", "updated"], rows)


@template_app.command("show", cls=PlainCommand)
def template_show(
    ctx: typer.Context,
    purpose: MessagePurpose,
    channel: ChannelName,
    locale: str = typer.Argument("en"),
    property_ref: str | None = PropertyOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the template a guest speaking LOCALE gets, and where it comes from."""
    state = state_of(ctx)
    key = TemplateKey(purpose, channel, locale, property_ref)
    chosen = message_templates.effective_template(state.runtime().uow(), state.caller(), key)
    body = chosen_body(chosen, key.checked())
    if as_json:
        print_json(body)
        return
    say(f"# {chosen.label}")
    for name in ("provider_template", "subject", "text", "html"):
        value = getattr(body, name)
        if value:
            say(f"## {name}\n{value.rstrip()}\n")


@template_app.command("set", cls=PlainCommand)
def template_set(
    ctx: typer.Context,
    purpose: MessagePurpose,
    channel: ChannelName,
    locale: str,
    property_ref: str | None = PropertyOption,
    subject: str = typer.Option("", help="Email subject (one line)."),
    html: Path | None = typer.Option(None, help="File with the email's HTML part."),
    text: Path | None = typer.Option(
        None, help="File with the text (email text part, SMS; WhatsApp: a parameter per line)."
    ),
    provider_template: str = typer.Option("", help="WhatsApp: the approved template's name."),
) -> None:
    """Save a template from files; a refused one prints each problem's line and reason."""
    state = state_of(ctx)
    parts = TemplateParts(subject, _read(html), _read(text), provider_template)
    key = TemplateKey(purpose, channel, locale, property_ref)
    try:
        saved = message_templates.save_template(state.runtime().uow(), state.caller(), key, parts)
    except InvalidTemplate as err:
        _report(err)
    say(f"saved template {saved.id} ({saved.purpose}, {saved.channel}, {saved.locale})")


@template_app.command("delete", cls=PlainCommand)
def template_delete(
    ctx: typer.Context,
    purpose: MessagePurpose,
    channel: ChannelName,
    locale: str,
    property_ref: str | None = PropertyOption,
) -> None:
    """Delete a saved template; messages fall back to the next one in line."""
    state = state_of(ctx)
    key = TemplateKey(purpose, channel, locale, property_ref)
    message_templates.delete_template(state.runtime().uow(), state.caller(), key)
    say("deleted")


@template_app.command("preview", cls=PlainCommand)
def template_preview(
    ctx: typer.Context,
    purpose: MessagePurpose,
    channel: ChannelName,
    locale: str = typer.Argument("en"),
    property_ref: str | None = PropertyOption,
    subject: str = typer.Option("", help="Preview this subject instead of the saved one."),
    html: Path | None = typer.Option(None, help="Preview this HTML file."),
    text: Path | None = typer.Option(None, help="Preview this text file."),
    provider_template: str = typer.Option("", help="WhatsApp template name to preview."),
) -> None:
    """Render a template for a sample stay (a made-up guest and code)."""
    state = state_of(ctx)
    given = any((subject, html, text, provider_template))
    parts = TemplateParts(subject, _read(html), _read(text), provider_template) if given else None
    key = TemplateKey(purpose, channel, locale, property_ref)
    try:
        chosen, rendered = message_templates.preview_template(
            state.runtime().uow(), state.caller(), key, parts
        )
    except InvalidTemplate as err:
        _report(err)
    say(f"# {chosen.label}")
    if rendered.provider_template:
        say(f"WhatsApp template {rendered.provider_template} ({rendered.language})")
        for number, value in enumerate(rendered.parameters, start=1):
            say(f"  {{{{{number}}}}} = {value}")
        return
    if rendered.subject:
        say(f"Subject: {rendered.subject}\n")
    say(rendered.text.rstrip())
    if rendered.html:
        say(f"\n## html\n{rendered.html.rstrip()}")


@template_app.command("variables", cls=PlainCommand)
def template_variables() -> None:
    """List the variables templates can use."""
    print_table("Template variables", ["variable", "meaning"], DESCRIPTIONS.items())


# What the log can be filtered by, as the API's ``status`` query takes it.
STATUSES = sorted({status.value for status in (*MessageStatus, *DeliveryStatus)})


@messages_app.command("list", cls=PlainCommand)
def messages_list(
    ctx: typer.Context,
    reservation: str | None = typer.Option(None, help="Only this reservation's messages."),
    status: str | None = typer.Option(None, help="A message's or a delivery's status."),
    channel: ChannelName | None = typer.Option(None),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JsonOption,
) -> None:
    """The notification log, newest first (recipients masked)."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(
            f"{status!r} is none of {', '.join(STATUSES)}", param_hint="--status"
        )
    state = state_of(ctx)
    runtime, caller = state.runtime(), state.caller()
    which = MessageFilter(reservation, status, channel.value if channel else None, limit)
    bodies = [log_body(entry) for entry in messages.list_messages(runtime.uow(), caller, which)]
    if as_json:
        print_json(bodies)
        return
    if reservation is not None:
        for alert in messages.warnings_about(runtime.uow(), caller, reservation):
            say(f"Warning: {alert.message}", err=True)
    zone = display_zone(list_properties(runtime.uow(), caller))
    rows = [
        (
            b.id,
            b.reservation_id,
            f"{b.purpose.value} v{b.grant_version}",
            b.channel.value if b.channel else None,
            b.recipient,
            b.status,
            local_time(b.sent_at or b.due_at, zone),
            b.attempts,
            b.reason,
        )
        for b in bodies
    ]
    columns = ["id", "reservation", "message", "channel", "to", "status", "at", "tries", "note"]
    print_table("Guest messages", columns, rows)


@messages_app.command("retry", cls=PlainCommand)
def messages_retry(ctx: typer.Context, delivery_id: str) -> None:
    """Send a failed or unknown delivery again (an unknown one may have arrived already)."""
    state = state_of(ctx)
    entry = messages.retry_delivery(state.runtime().uow(), state.caller(), delivery_id)
    say(f"delivery {delivery_id} is {entry.status} again; the next pass sends it")


@messages_app.command("run", cls=PlainCommand)
def messages_run(ctx: typer.Context) -> None:
    """Plan and send what is due now, once, through the configured channels."""
    runtime = state_of(ctx).runtime()
    channels = channels_from_settings(runtime.settings)
    try:
        done = run_messages_once(runtime, channels)
    finally:
        channels.close()
    report = done.report
    say(
        f"planned {done.planned} grant(s); dispatched {report.dispatched} message(s); "
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"unknown {report.unknown}, cancelled {report.cancelled}"
    )


@rules_app.command("show", cls=PlainCommand)
def rules_show(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., help="The property: id, external id or name."),
    as_json: bool = JsonOption,
) -> None:
    """Show a property's rules for guest messages."""
    state = state_of(ctx)
    prop, found = message_rules.get_rules(state.runtime().uow(), state.caller(), property_ref)
    if as_json:
        print_json(rules_body(prop.id, found))
        return
    print_table(f"Message rules of {prop.name}", ["rule", "value"], asdict(found).items())


@rules_app.command("set", cls=PlainCommand)
def rules_set(
    ctx: typer.Context,
    property_ref: str = typer.Argument(..., help="The property: id, external id or name."),
    days_before: int | None = typer.Option(None, help="Send instructions N days before."),
    at: str | None = typer.Option(None, help="At this local time, HH:MM.", metavar="HH:MM"),
    send_if_late: bool | None = typer.Option(None, help="Booked later? Send when the code is set."),
    on_change: bool | None = typer.Option(None, help="Send again when the code changes."),
    backup_code: bool | None = typer.Option(None, help="Send the backup code when released."),
    alert_hours: int | None = typer.Option(None, help="Alert if no code N hours before."),
) -> None:
    """Change some of a property's rules for guest messages."""
    state = state_of(ctx)
    changes = {
        "days_before": days_before,
        "send_at": parse_time(at, "--at") if at else None,
        "send_if_late": send_if_late,
        "on_change": on_change,
        "on_backup_code": backup_code,
        "alert_hours": alert_hours,
    }
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:  # it stored the defaults and re-planned every message, saying nothing
        raise typer.BadParameter("nothing to change: give at least one option")
    found = message_rules.set_rules(state.runtime().uow(), state.caller(), property_ref, given)
    say(f"rules of {property_ref}: " + ", ".join(f"{k}={v}" for k, v in asdict(found).items()))


def _read(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise typer.BadParameter(f"cannot read {path}: {err}") from err


def _report(err: InvalidTemplate) -> NoReturn:
    say("Error: the template is refused:", err=True)
    for problem in err.problems:
        say(f"  {problem}", err=True)
    raise typer.Exit(code=1)
