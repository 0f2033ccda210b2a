"""Message templates: the built-in English ones, which saved one serves a message, rendering.

A template is the wording of one purpose on one channel in one language:

* email: ``subject`` (one line), ``html`` and ``text`` (both parts are always sent);
* sms: ``text``;
* whatsapp: ``provider_template``, the name of a template Meta approved (a business may only
  open a conversation with one), and ``text``, one parameter of it per non-empty line.

The console channel speaks with the email wording. For a guest whose locale is ``pt-BR``
the search goes ``pt-BR``, ``pt``, then ``en``; within a language the property's own
template wins over the account-wide one, and the built-in English one comes last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.notify.errors import InvalidTemplate
from doorcode.notify.sandbox import TemplateProblem, check_source, render_source, sandbox
from doorcode.notify.variables import (
    VARIABLES,
    MessageFacts,
    context_for,
    formatting_locale,
)
from doorcode.store.models import MessageTemplate

__all__ = [
    "TEMPLATE_CHANNELS",
    "ChosenTemplate",
    "RenderedMessage",
    "TemplateParts",
    "builtin_template",
    "choose_template",
    "render_message",
    "template_channel",
    "template_problems",
    "validate_template",
]

TEMPLATE_CHANNELS = (ChannelName.EMAIL, ChannelName.SMS, ChannelName.WHATSAPP)
REQUIRED = {
    ChannelName.EMAIL: ("subject", "html", "text"),
    ChannelName.SMS: ("text",),
    ChannelName.WHATSAPP: ("provider_template",),
}
PROVIDER_TEMPLATE = re.compile(r"^[a-z0-9_]{1,512}$")
BUILT_IN_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class TemplateParts:
    """The wording of one template; which parts a channel uses is in the module docstring."""

    subject: str = ""
    html: str = ""
    text: str = ""
    provider_template: str = ""


@dataclass(frozen=True, slots=True)
class ChosenTemplate:
    """The template that serves a message, and where it came from."""

    parts: TemplateParts
    locale: str
    source: str
    template_id: str | None = None

    @property
    def label(self) -> str:
        """How the notification log names it: ``property:fr tpl_...`` or ``built-in:en``."""
        suffix = f" {self.template_id}" if self.template_id else ""
        return f"{self.source}:{self.locale}{suffix}"


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for a channel; it holds the code, so its repr shows none of it."""

    subject: str = ""
    text: str = ""
    html: str = ""
    parameters: tuple[str, ...] = ()
    provider_template: str = ""
    language: str = BUILT_IN_LOCALE

    def __repr__(self) -> str:
        return f"RenderedMessage(subject=***, text=***, language={self.language!r})"


def template_channel(channel: ChannelName) -> ChannelName:
    """The channel whose wording ``channel`` uses (the console borrows the email's)."""
    return ChannelName.EMAIL if channel is ChannelName.CONSOLE else channel


@cache
def builtin_template(purpose: MessagePurpose, channel: ChannelName) -> TemplateParts:
    """The built-in English wording, shipped as files in ``notify/defaults``."""
    channel = template_channel(channel)
    folder = resources.files("doorcode.notify") / "defaults"

    def read(suffix: str) -> str:
        return (folder / f"{purpose.value}.{channel.value}.{suffix}").read_text("utf-8")

    if channel is ChannelName.EMAIL:
        return TemplateParts(read("subject.txt").strip(), read("html"), read("txt"))
    if channel is ChannelName.SMS:
        return TemplateParts(text=read("txt"))
    return TemplateParts(text=read("txt"), provider_template=f"doorcode_{purpose.value}")


def template_problems(channel: ChannelName, parts: TemplateParts) -> list[TemplateProblem]:
    """Every reason to refuse ``parts`` for ``channel``; nothing of it is run to find them."""
    if channel not in REQUIRED:
        return [TemplateProblem("channel", None, f"{channel} has no templates of its own")]
    problems = [
        TemplateProblem(name, None, "is required for this channel")
        for name in REQUIRED[channel]
        if not getattr(parts, name).strip()
    ]
    for name in ("subject", "html", "text", "provider_template"):
        if getattr(parts, name) and name not in _used_parts(channel):
            problems.append(TemplateProblem(name, None, f"is not used by {channel} messages"))
    if channel is ChannelName.EMAIL:
        problems += _checked(parts.subject, "subject", html=False)
        if "\n" in parts.subject.strip():
            problems.append(TemplateProblem("subject", None, "must be one line"))
        problems += _checked(parts.html, "html", html=True)
        problems += _checked(parts.text, "text", html=False)
    elif channel is ChannelName.SMS:
        problems += _checked(parts.text, "text", html=False)
    else:
        problems += _whatsapp_problems(parts)
    return problems


def validate_template(channel: ChannelName, parts: TemplateParts) -> None:
    """Refuse ``parts`` with every problem at once, or return quietly."""
    problems = template_problems(channel, parts)
    if problems:
        raise InvalidTemplate(problems)


def choose_template(
    saved: Sequence[MessageTemplate],
    property_id: str | None,
    purpose: MessagePurpose,
    channel: ChannelName,
    locales: Sequence[str],
) -> ChosenTemplate:
    """The template for a message: by language first, then property over account, then built-in.

    ``saved`` are the organisation's candidates (any order); ``locales`` is the guest's
    chain, ending with English.
    """
    wanted = template_channel(channel).value
    owners = ((property_id, "property"),) if property_id is not None else ()
    for locale in locales:
        for owner, source in (*owners, (None, "account")):
            for row in saved:
                key = (row.property_id, row.purpose, row.channel, row.locale)
                if key == (owner, purpose.value, wanted, locale):
                    return ChosenTemplate(_parts_of(row), locale, source, row.id)
    return ChosenTemplate(builtin_template(purpose, channel), BUILT_IN_LOCALE, "built-in")


def render_message(
    chosen: ChosenTemplate, channel: ChannelName, facts: MessageFacts
) -> RenderedMessage:
    """Render the chosen wording for one message; raises TemplateRenderError if it cannot."""
    locale = formatting_locale(chosen.locale, facts.guest_locale)
    context = context_for(facts, locale)
    parts = chosen.parts
    text_environment = sandbox(html=False)
    if template_channel(channel) is ChannelName.EMAIL:
        subject = render_source(parts.subject, text_environment, context)
        html = "" if channel is ChannelName.CONSOLE else _html(parts.html, context)
        return RenderedMessage(
            subject=" ".join(subject.split()),
            text=render_source(parts.text, text_environment, context).strip() + "\n",
            html=html,
            language=chosen.locale,
        )
    if channel is ChannelName.SMS:
        text = render_source(parts.text, text_environment, context)
        return RenderedMessage(text=text.strip(), language=chosen.locale)
    parameters = tuple(
        _parameter(render_source(line, text_environment, context))
        for line in parts.text.splitlines()
        if line.strip()
    )
    return RenderedMessage(
        parameters=parameters,
        provider_template=parts.provider_template,
        language=chosen.locale.replace("-", "_"),
    )


def _html(source: str, context: dict[str, object]) -> str:
    return render_source(source, sandbox(html=True), context)


def _parameter(value: str) -> str:
    """A WhatsApp template parameter: no line breaks or tabs, no run of spaces, never empty."""
    flat = "; ".join(line.strip() for line in value.splitlines() if line.strip())
    flat = re.sub(r"[\t ]{2,}", " ", flat.replace("\t", " ")).strip()
    return flat or "-"


def _used_parts(channel: ChannelName) -> tuple[str, ...]:
    if channel is ChannelName.EMAIL:
        return ("subject", "html", "text")
    if channel is ChannelName.SMS:
        return ("text",)
    return ("text", "provider_template")


def _checked(source: str, part: str, *, html: bool) -> list[TemplateProblem]:
    return check_source(source, part, VARIABLES, sandbox(html=html)) if source else []


def _whatsapp_problems(parts: TemplateParts) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    name = parts.provider_template.strip()
    if name and not PROVIDER_TEMPLATE.match(name):
        reason = "must be a WhatsApp template name: lowercase letters, digits and _"
        problems.append(TemplateProblem("provider_template", None, reason))
    environment = sandbox(html=False)
    for number, line in enumerate(parts.text.splitlines(), start=1):
        if line.strip():
            problems += check_source(line, "text", VARIABLES, environment, first_line=number)
    return problems


def _parts_of(row: MessageTemplate) -> TemplateParts:
    return TemplateParts(row.subject, row.html, row.text, row.provider_template)
