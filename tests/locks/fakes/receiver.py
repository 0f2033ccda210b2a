"""A webhook receiver for tests: keeps every delivery's headers and raw body."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers "success" (what TTLock's callback expects) to every POST and keeps it."""

    deliveries: list[Delivery] = field(default_factory=list)
    mutex: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            delivery = Delivery(request.url.path, dict(request.headers), await request.body())
            with self.mutex:
                self.deliveries.append(delivery)
            return PlainTextResponse("success")

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
