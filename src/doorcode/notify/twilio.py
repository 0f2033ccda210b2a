"""SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``).

The request is form-encoded with HTTP basic auth (account SID and auth token); ``From`` is a
Twilio number, or ``MessagingServiceSid`` when the configured sender starts with ``MG``.
Success is ``201`` with the message's ``sid``. Errors carry Twilio's JSON
``{"code", "message", "more_info", "status"}``: 429 (code 20429) and 5xx are worth a retry,
other 4xx (21211 invalid number, 21610 unsubscribed, 20003 bad credentials) are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel, OutgoingMessage
from doorcode.notify.errors import PermanentFailure, TransientFailure
from doorcode.notify.outbound import json_of, post, retry_after

__all__ = ["TwilioSettings", "TwilioSmsChannel"]

TRANSIENT_CODES = frozenset({20429})


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """A Twilio account and the sender it sends from."""

    account_sid: str
    auth_token: str
    sender: str
    base_url: str = "https://api.twilio.com"

    def __repr__(self) -> str:
        return f"TwilioSettings(account_sid={self.account_sid!r}, auth_token=***)"


class TwilioSmsChannel(Channel):
    """Text messages through Twilio."""

    name = ChannelName.SMS

    def __init__(self, settings: TwilioSettings, client: httpx.Client) -> None:
        self._settings = settings
        self._client = client

    def send(self, message: OutgoingMessage) -> str:
        """Create one Twilio message; its ``SM...`` sid identifies it."""
        settings = self._settings
        url = f"{settings.base_url.rstrip('/')}/2010-04-01/Accounts/{settings.account_sid}"
        sender = "MessagingServiceSid" if settings.sender.startswith("MG") else "From"
        form = {"To": message.recipient, sender: settings.sender, "Body": message.rendered.text}
        auth = (settings.account_sid, settings.auth_token)
        response = post(self._client, "Twilio", f"{url}/Messages.json", data=form, auth=auth)
        body = json_of(response)
        if response.status_code in (200, 201) and isinstance(body.get("sid"), str):
            return str(body["sid"])
        raise _failure(response, body)


def _failure(response: httpx.Response, body: dict[str, object]) -> Exception:
    code, text = body.get("code"), body.get("message")
    reason = f"Twilio answered {response.status_code}"
    if code is not None:
        reason += f" (error {code}: {text})"
    if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
        return TransientFailure(reason, retry_after(response))
    return PermanentFailure(reason)
