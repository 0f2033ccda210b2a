"""Refuse request bodies over a size limit before anything parses them."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ONE_MIB", "BodySizeLimit"]

ONE_MIB = 1024 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over ``limit`` bytes, whether declared or streamed.

    A declared ``Content-Length`` over the limit is refused before the application runs; a
    streamed body raises 413 from ``receive`` as soon as it passes the limit, which the
    application's error handlers answer like any other HTTP error.
    """

    def __init__(self, app: ASGIApp, limit: int = ONE_MIB) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:

            async def refuse_at_once() -> Message:
                raise self._too_large()

            await self.app(scope, refuse_at_once, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise self._too_large()
            return message

        return counting_receive

    def _too_large(self) -> HTTPException:
        return HTTPException(413, f"request bodies are limited to {self.limit} bytes")
