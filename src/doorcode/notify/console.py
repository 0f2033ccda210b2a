"""The console channel: the demo's phone. It prints each message whole to standard output.

It writes to the stream directly, never through ``logging``: log lines must not carry
codes, and this channel exists precisely to show them to whoever runs the demo.
"""

from __future__ import annotations

import sys
from typing import TextIO

from doorcode.domain.messages import ChannelName
from doorcode.notify.channel import Channel, OutgoingMessage

__all__ = ["ConsoleChannel"]


class ConsoleChannel(Channel):
    """Prints messages instead of sending them."""

    name = ChannelName.CONSOLE

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: OutgoingMessage) -> str:
        """Print the message with its subject and addressee; the key stands in for an id."""
        stream = self._stream or sys.stdout
        rule = "=" * 72
        stream.write(
            f"{rule}\nMessage to {message.recipient_name} <{message.recipient}>"
            f"  ({message.purpose.value})\nSubject: {message.rendered.subject}\n\n"
            f"{message.rendered.text.rstrip()}\n{rule}\n"
        )
        stream.flush()
        return f"console:{message.idempotency_key}"
