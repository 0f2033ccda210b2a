"""WhatsApp through Meta's Cloud API, with template messages.

A business may only open a conversation with an approved template, so every message is
``POST /{version}/{phone-number-id}/messages`` with ``type: template``: the template's name,
its language and its body parameters, authorised by a bearer token. Success is ``200`` with
``messages[0].id`` (a ``wamid``). Errors are Graph API errors,
``{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}``; Meta
advises deciding on ``code``: throttling (4, 80007, 130429, 131056) and temporary trouble
(1, 2, 131000, 131016) are worth a retry, as are HTTP 429 and 5xx. The rest (100 invalid
parameter, 131026 undeliverable, 132001 no such template, 190 expired token, ...) is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.errors import PermanentFailure, TransientFailure
from doorcode.notify.outbound import json_of, post, retry_after

__all__ = ["WhatsAppChannel", "WhatsAppSettings"]

TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})


@dataclass(frozen=True, slots=True)
class WhatsAppSettings:
    """A WhatsApp Business phone number and the token allowed to send from it."""

    token: str
    phone_number_id: str
    base_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"

    def __repr__(self) -> str:
        return f"WhatsAppSettings(phone_number_id={self.phone_number_id!r}, token=***)"


class WhatsAppChannel(Channel):
    """Template messages through the WhatsApp Cloud API."""

    name = ChannelName.WHATSAPP

    def __init__(self, settings: WhatsAppSettings, client: httpx.Client) -> None:
        self._settings = settings
        self._client = client

    def send(self, message: OutgoingMessage) -> str:
        """Send one template message; its ``wamid`` identifies it."""
        settings = self._settings
        base = settings.base_url.rstrip("/")
        url = f"{base}/{settings.api_version}/{settings.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {settings.token}"}
        response = post(self._client, "WhatsApp", url, json=_body(message), headers=headers)
        body = json_of(response)
        if response.status_code == 200:
            found = body.get("messages")
            if isinstance(found, list) and found and isinstance(found[0].get("id"), str):
                return str(found[0]["id"])
        raise _failure(response, body)


def _body(message: OutgoingMessage) -> dict[str, Any]:
    rendered = message.rendered
    template: dict[str, Any] = {
        "name": rendered.provider_template,
        "language": {"code": rendered.language},
    }
    if rendered.parameters:
        parameters = [{"type": "text", "text": value} for value in rendered.parameters]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient.lstrip("+"),
        "type": "template",
        "template": template,
        "biz_opaque_callback_data": message.idempotency_key,
    }


def _failure(response: httpx.Response, body: dict[str, Any]) -> Exception:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    reason = f"WhatsApp answered {response.status_code}"
    if code is not None:
        reason += f" (error {code}: {error.get('message')}"
        reason += f"; {details})" if details else ")"
    if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
        return TransientFailure(reason, retry_after(response))
    return PermanentFailure(reason)
