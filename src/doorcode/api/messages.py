"""/templates, /messages, /properties/{ref}/message-rules and /organisation/host-contact."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from doorcode.api.auth import CallerDep, RuntimeDep
from doorcode.api.message_schemas import (
    AttemptBody,
    HostContactBody,
    MessageLogBody,
    MessageRulesBody,
    MessageRulesChangesBody,
    PreviewBody,
    PreviewRequestBody,
    TemplateBody,
    TemplateChannel,
    TemplatePartsBody,
)
from doorcode.api.paging import PageLimit, PageOffset
from doorcode.api.problems import problem
from doorcode.domain.messages import (
    ChannelName,
    DeliveryStatus,
    MessagePurpose,
    MessageRules,
    MessageStatus,
    mask_recipient,
)
from doorcode.notify.errors import InvalidTemplate
from doorcode.notify.templates import ChosenTemplate, TemplateParts
from doorcode.services import message_rules, message_templates, messages
from doorcode.services.host_contact import HostContact, get_host_contact, set_host_contact
from doorcode.services.message_templates import TemplateKey
from doorcode.store.message_repository import MessageFilter
from doorcode.store.models import MessageTemplate

__all__ = ["invalid_template", "log_body", "routers"]

templates = APIRouter(prefix="/templates", tags=["guest messages"])
log = APIRouter(prefix="/messages", tags=["guest messages"])
rules = APIRouter(prefix="/properties", tags=["guest messages"])
organisation = APIRouter(prefix="/organisation", tags=["guest messages"])
routers = (templates, log, rules, organisation)

PropertyQuery = Annotated[
    str | None, Query(description="Property id, external id or name; absent: account-wide.")
]


@templates.get("")
def list_templates(
    runtime: RuntimeDep, caller: CallerDep, property: PropertyQuery = None
) -> list[TemplateBody]:
    """Saved templates (built-in ones are not listed; GET one to see what is in effect)."""
    found = message_templates.list_templates(runtime.uow(), caller, property)
    return [saved_body(template) for template in found]


@templates.get("/{purpose}/{channel}/{locale}")
def get_template(
    purpose: MessagePurpose,
    channel: TemplateChannel,
    locale: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    property: PropertyQuery = None,
) -> TemplateBody:
    """The template a guest speaking ``locale`` gets (saved or built-in, with its source)."""
    key = TemplateKey(purpose, ChannelName(channel), locale, property)
    chosen = message_templates.effective_template(runtime.uow(), caller, key)
    return chosen_body(chosen, key)


@templates.put("/{purpose}/{channel}/{locale}")
def put_template(
    purpose: MessagePurpose,
    channel: TemplateChannel,
    locale: str,
    body: TemplatePartsBody,
    runtime: RuntimeDep,
    caller: CallerDep,
    property: PropertyQuery = None,
) -> TemplateBody:
    """Save a template; a refused one answers 422 with each problem's part and line."""
    key = TemplateKey(purpose, ChannelName(channel), locale, property)
    parts = TemplateParts(**body.model_dump())
    return saved_body(message_templates.save_template(runtime.uow(), caller, key, parts))


@templates.delete("/{purpose}/{channel}/{locale}", status_code=status.HTTP_204_NO_CONTENT)
def delete_template(
    purpose: MessagePurpose,
    channel: TemplateChannel,
    locale: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    property: PropertyQuery = None,
) -> Response:
    """Remove a saved template; messages fall back to the next one in line."""
    key = TemplateKey(purpose, ChannelName(channel), locale, property)
    message_templates.delete_template(runtime.uow(), caller, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@templates.post("/preview")
def preview(body: PreviewRequestBody, runtime: RuntimeDep, caller: CallerDep) -> PreviewBody:
    """Render a template for a sample stay; ``template`` previews unsaved wording."""
    key = TemplateKey(body.purpose, ChannelName(body.channel), body.locale, body.property)
    parts = TemplateParts(**body.template.model_dump()) if body.template else None
    chosen, rendered = message_templates.preview_template(runtime.uow(), caller, key, parts)
    return PreviewBody(
        source=chosen.source,
        locale=chosen.locale,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        parameters=list(rendered.parameters),
        provider_template=rendered.provider_template,
        language=rendered.language,
    )


@log.get("")
def list_messages(
    runtime: RuntimeDep,
    caller: CallerDep,
    reservation: str | None = None,
    status_is: Annotated[MessageStatus | DeliveryStatus | None, Query(alias="status")] = None,
    channel: ChannelName | None = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[MessageLogBody]:
    """The notification log, newest first; recipients are masked."""
    which = MessageFilter(
        reservation_id=reservation,
        status=status_is.value if status_is else None,
        channel=channel.value if channel else None,
        limit=limit,
        offset=offset,
    )
    return [log_body(entry) for entry in messages.list_messages(runtime.uow(), caller, which)]


@log.post("/{delivery_id}/retry")
def retry(delivery_id: str, runtime: RuntimeDep, caller: CallerDep) -> MessageLogBody:
    """Send a failed or unknown delivery again (an unknown one may have arrived already)."""
    return log_body(messages.retry_delivery(runtime.uow(), caller, delivery_id))


@rules.get("/{reference}/message-rules")
def get_rules(reference: str, runtime: RuntimeDep, caller: CallerDep) -> MessageRulesBody:
    """The property's rules for guest messages (the defaults if it has none of its own)."""
    prop, found = message_rules.get_rules(runtime.uow(), caller, reference)
    return rules_body(prop.id, found)


@rules.patch("/{reference}/message-rules")
def change_rules(
    reference: str, body: MessageRulesChangesBody, runtime: RuntimeDep, caller: CallerDep
) -> MessageRulesBody:
    """Change some rules; waiting messages follow a new send time at once."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    message_rules.set_rules(runtime.uow(), caller, reference, changes)
    prop, found = message_rules.get_rules(runtime.uow(), caller, reference)
    return rules_body(prop.id, found)


@organisation.get("/host-contact")
def get_contact(runtime: RuntimeDep, caller: CallerDep) -> HostContactBody:
    """Who guests are told to contact."""
    _organisation, contact = get_host_contact(runtime.uow(), caller)
    return HostContactBody(**asdict(contact))


@organisation.put("/host-contact")
def put_contact(body: HostContactBody, runtime: RuntimeDep, caller: CallerDep) -> HostContactBody:
    """Replace the host contact (owners only)."""
    contact = set_host_contact(runtime.uow(), caller, HostContact(**body.model_dump()))
    return HostContactBody(**asdict(contact))


async def invalid_template(_request: Request, exc: Exception) -> JSONResponse:
    """A refused template: 422 with every problem's part, line and reason."""
    assert isinstance(exc, InvalidTemplate)
    fields = [
        {"field": problem_.part, "line": problem_.line, "message": problem_.reason}
        for problem_ in exc.problems
    ]
    return problem(422, "invalid_template", str(exc), fields=fields)


def saved_body(template: MessageTemplate) -> TemplateBody:
    """A saved template for the API."""
    return TemplateBody(
        id=template.id,
        source="property" if template.property_id else "account",
        property_id=template.property_id,
        purpose=MessagePurpose(template.purpose),
        channel=ChannelName(template.channel),
        locale=template.locale,
        subject=template.subject,
        html=template.html,
        text=template.text,
        provider_template=template.provider_template,
        updated_at=template.updated_at,
    )


def chosen_body(chosen: ChosenTemplate, key: TemplateKey) -> TemplateBody:
    """The template in effect for the API."""
    parts = chosen.parts
    return TemplateBody(
        id=chosen.template_id,
        source=chosen.source,
        property_id=None,
        purpose=key.purpose,
        channel=key.channel,
        locale=chosen.locale,
        subject=parts.subject,
        html=parts.html,
        text=parts.text,
        provider_template=parts.provider_template,
    )


def rules_body(property_id: str, found: MessageRules) -> MessageRulesBody:
    """A property's rules for the API."""
    return MessageRulesBody(property_id=property_id, **asdict(found))


def log_body(entry: messages.LogEntry) -> MessageLogBody:
    """A notification-log row for the API; the recipient masked, never a message's text."""
    message, delivery = entry.message, entry.delivery
    attempts = delivery.attempt_log if delivery is not None else []
    return MessageLogBody(
        id=delivery.id if delivery is not None else message.id,
        message_id=message.id,
        reservation_id=message.reservation_id,
        grant_id=message.grant_id,
        grant_version=message.grant_version,
        purpose=MessagePurpose(message.purpose),
        channel=ChannelName(delivery.channel) if delivery is not None else None,
        recipient=mask_recipient(delivery.recipient) if delivery is not None else None,
        status=entry.status,
        reason=(delivery.last_error if delivery is not None else message.reason) or None,
        template=delivery.template or None if delivery is not None else None,
        due_at=message.due_at,
        attempts=delivery.attempts if delivery is not None else 0,
        next_attempt_at=delivery.next_attempt_at if delivery is not None else None,
        sent_at=delivery.sent_at if delivery is not None else None,
        provider_message_id=delivery.provider_message_id if delivery is not None else None,
        updated_at=delivery.updated_at if delivery is not None else message.updated_at,
        attempt_log=[
            AttemptBody(
                number=attempt.number,
                outcome=attempt.outcome,
                error=attempt.error,
                provider_message_id=attempt.provider_message_id,
                started_at=attempt.started_at,
                finished_at=attempt.finished_at,
            )
            for attempt in attempts
        ],
    )
