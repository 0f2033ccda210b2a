"""The one interface every message channel implements, and what it is handed.

A channel turns one ``OutgoingMessage`` into one message at its provider and returns the
provider's id for it, or raises one of ``notify.errors``' delivery errors::

    class PigeonChannel(Channel):
        name = ChannelName.PIGEON

        def send(self, message: OutgoingMessage) -> str:
            try:
                receipt = self._loft.release(message.recipient, message.rendered.text)
            except LoftClosed as err:
                raise TransientFailure("the loft is closed") from err
            return receipt.id

It never decides about retries, never logs the message and never puts its content in an
error: the dispatcher owns all of that. Outbound HTTP goes through the ``httpx.Client``
the channel was built with, so tests can point it at a local fake server.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

from doorcode.domain.host_notices import HostNoticeKind
from doorcode.domain.messages import ChannelName, MessagePurpose, mask_recipient
from doorcode.notify.templates import RenderedMessage

__all__ = ["Channel", "OutgoingMessage"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One delivery, rendered and addressed; it holds the code, so its repr holds none of it."""

    recipient: str
    recipient_name: str
    rendered: RenderedMessage
    idempotency_key: str
    purpose: MessagePurpose | HostNoticeKind
    created_at: datetime
    reply_to: str | None = None

    def __repr__(self) -> str:
        return (
            f"OutgoingMessage(recipient={mask_recipient(self.recipient)!r}, "
            f"purpose={self.purpose.value!r}, rendered=***)"
        )


class Channel(abc.ABC):
    """A way to reach a guest: email, SMS, WhatsApp, the console."""

    name: ChannelName

    @abc.abstractmethod
    def send(self, message: OutgoingMessage) -> str:
        """Hand ``message`` to the provider; its id for the message, or a ``DeliveryError``."""

    def close(self) -> None:  # noqa: B027 (most channels hold nothing to release)
        """Release connections; the default has none."""
