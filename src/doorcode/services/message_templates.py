"""Message templates as hosts manage them: list, show, save, delete and preview.

A template is saved only after ``notify.templates`` found nothing to refuse in it, and the
check runs before the transaction opens: a refused template changes nothing. A preview
renders with a sample stay (the property's real name, zone and locks; a made-up guest and
a made-up code), so it can be shown to anyone who may read templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.domain.windows import Edge, local_instant, zone_named
from doorcode.notify.facts import guidebook_url
from doorcode.notify.templates import (
    TEMPLATE_CHANNELS,
    ChosenTemplate,
    RenderedMessage,
    TemplateParts,
    choose_template,
    render_message,
    validate_template,
)
from doorcode.notify.variables import MessageFacts, canonical_locale, locale_chain
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.message_repository import TemplateFilter
from doorcode.store.models import MessageTemplate, Organisation, Property
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "TemplateKey",
    "delete_template",
    "effective_template",
    "list_templates",
    "preview_template",
    "save_template",
]

SUBJECT = "message_template"
SAMPLE_GUEST = "Alex Sample"


@dataclass(frozen=True, slots=True)
class TemplateKey:
    """Which template: purpose, channel, language, and a property (None: account-wide)."""

    purpose: MessagePurpose
    channel: ChannelName
    locale: str
    property_ref: str | None = None

    def checked(self) -> TemplateKey:
        """The key with its locale in canonical form; channels without templates refused."""
        if self.channel not in TEMPLATE_CHANNELS:
            names = ", ".join(channel.value for channel in TEMPLATE_CHANNELS)
            raise InvalidRequest(f"templates are per channel: {names}")
        return TemplateKey(
            self.purpose, self.channel, canonical_locale(self.locale), self.property_ref
        )


def list_templates(
    uow: UnitOfWork, caller: Caller, property_ref: str | None = None
) -> list[MessageTemplate]:
    """The organisation's saved templates (one property's if given), account-wide first."""
    with uow:
        which = TemplateFilter()
        if property_ref is not None:
            which = TemplateFilter(property_id=_property(uow, caller, property_ref).id)
        return uow.messages.templates(caller.organisation_id, which)


def effective_template(uow: UnitOfWork, caller: Caller, key: TemplateKey) -> ChosenTemplate:
    """The template a guest speaking ``key.locale`` gets at that property, and its source."""
    key = key.checked()
    with uow:
        property_id = _property_id(uow, caller, key.property_ref)
        return _choose(uow, caller, property_id, key)


def save_template(
    uow: UnitOfWork, caller: Caller, key: TemplateKey, parts: TemplateParts
) -> MessageTemplate:
    """Create or replace a template, after every check passed (none of it is run)."""
    caller.require_writer()
    key = key.checked()
    validate_template(key.channel, parts)
    with uow:
        property_id = _property_id(uow, caller, key.property_ref)
        template = _saved(uow, caller, property_id, key)
        created = template is None
        if template is None:
            template = MessageTemplate(
                organisation_id=caller.organisation_id,
                property_id=property_id,
                purpose=key.purpose.value,
                channel=key.channel.value,
                locale=key.locale,
                created_at=uow.now,
            )
            uow.messages.add_template(template)
        template.subject, template.html = parts.subject, parts.html
        # Stored as checked: validation looks at the name without surrounding spaces.
        template.text = parts.text
        template.provider_template = parts.provider_template.strip()
        template.updated_at = uow.now
        uow.flush()
        kind = "MessageTemplateCreated" if created else "MessageTemplateChanged"
        record_event(uow, caller, (SUBJECT, template.id), kind, after=_snapshot(template))
        uow.commit()
        return template


def delete_template(uow: UnitOfWork, caller: Caller, key: TemplateKey) -> None:
    """Remove a saved template; messages fall back to the next one in line."""
    caller.require_writer()
    key = key.checked()
    with uow:
        property_id = _property_id(uow, caller, key.property_ref)
        template = _saved(uow, caller, property_id, key)
        if template is None:
            raise NotFound("template", f"{key.purpose}/{key.channel}/{key.locale}")
        record_event(
            uow,
            caller,
            (SUBJECT, template.id),
            "MessageTemplateDeleted",
            before=_snapshot(template),
        )
        uow.messages.delete_template(template)
        uow.commit()


def preview_template(
    uow: UnitOfWork, caller: Caller, key: TemplateKey, parts: TemplateParts | None = None
) -> tuple[ChosenTemplate, RenderedMessage]:
    """Render ``parts`` (checked first), or the template in effect, for a sample stay."""
    key = key.checked()
    if parts is not None:
        validate_template(key.channel, parts)
    with uow:
        prop = _property(uow, caller, key.property_ref) if key.property_ref else None
        chosen = (
            ChosenTemplate(parts, key.locale, "preview")
            if parts is not None
            else _choose(uow, caller, prop.id if prop else None, key)
        )
        organisation = uow.organisations.get(caller.organisation_id)
        assert organisation is not None
        facts = _sample_facts(key, prop, organisation, uow.now)
        return chosen, render_message(chosen, key.channel, facts)


def _sample_facts(
    key: TemplateKey, prop: Property | None, organisation: Organisation, now: datetime
) -> MessageFacts:
    """A made-up stay a week from now, at the property's check-in and check-out times."""
    zone = zone_named(prop.time_zone if prop else "UTC")
    day = now.astimezone(zone).date() + timedelta(days=7)
    check_in = prop.check_in_time if prop else time(15, 0)
    check_out = prop.check_out_time if prop else time(11, 0)
    locks = tuple(lock.name for lock in prop.locks) if prop and prop.locks else ("Front door",)
    length = prop.code_length if prop else 6
    return MessageFacts(
        purpose=key.purpose,
        guest_name=SAMPLE_GUEST,
        guest_locale=key.locale,
        property_name=prop.name if prop else "Sample Flat",
        property_address=(prop.address if prop else "") or "1 Sample Street",
        time_zone=str(zone.key),
        starts_at=local_instant(day, check_in, zone, Edge.START).astimezone(UTC),
        ends_at=local_instant(day + timedelta(days=3), check_out, zone, Edge.END),
        code="1234567890"[:length],
        lock_names=locks,
        guidebook_url=guidebook_url("https://doorcode.example", "sample-guidebook-link"),
        host_name=organisation.host_name or organisation.name,
        host_email=organisation.host_email,
        host_phone=organisation.host_phone,
        reference="SAMPLE-1",
        guests=2,
    )


def _choose(
    uow: UnitOfWork, caller: Caller, property_id: str | None, key: TemplateKey
) -> ChosenTemplate:
    chain = locale_chain(key.locale)
    saved = uow.messages.template_candidates(
        caller.organisation_id, property_id, key.purpose.value, key.channel.value, chain
    )
    return choose_template(saved, property_id, key.purpose, key.channel, chain)


def _saved(
    uow: UnitOfWork, caller: Caller, property_id: str | None, key: TemplateKey
) -> MessageTemplate | None:
    which = TemplateFilter(
        property_id=property_id if property_id is not None else "",
        purpose=key.purpose.value,
        channel=key.channel.value,
        locale=key.locale,
    )
    found = uow.messages.templates(caller.organisation_id, which)
    return found[0] if found else None


def _property_id(uow: UnitOfWork, caller: Caller, reference: str | None) -> str | None:
    return _property(uow, caller, reference).id if reference else None


def _property(uow: UnitOfWork, caller: Caller, reference: str) -> Property:
    prop = uow.properties.find(caller.organisation_id, reference)
    if prop is None:
        raise NotFound("property", reference)
    return prop


def _snapshot(template: MessageTemplate) -> dict[str, Any]:
    """What the audit log keeps of a template: where it applies, not its wording."""
    return {
        "property_id": template.property_id,
        "purpose": template.purpose,
        "channel": template.channel,
        "locale": template.locale,
    }
