"""One rule for every string a request carries: no NUL character, wherever it hides.

PostgreSQL cannot store ``\\x00`` in text, so a NUL in a name, an id or a query parameter
used to fail as a 500 deep in the database (SQLite took it). Rather than guard each field,
this middleware looks at everything text in a request before any route sees it: the path,
every query parameter, and JSON bodies (keys and values, at any depth). A NUL anywhere is a
422 naming where it was, and nothing runs; on a page (``on_page``), an HTML error page
saying the same. Webhook bodies are left to the delivery service,
which refuses them the same way but keeps the delivery's record, as the docs promise; form
bodies are read by ``web.forms``, which applies the same rule to each field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorcode.api.problems import problem
from doorcode.domain.text import first_nul, has_nul

__all__ = ["RefuseNulText"]

NUL_IN_JSON = re.compile(rb"\\u0000|\x00")
"""A NUL reaches a JSON string as the escape ``\\u0000`` (or raw, in UTF-16 and UTF-32)."""
WEBHOOK_PATHS = "/webhooks/"
MESSAGE = "text may not contain the NUL character"


PageRefusal = Callable[[Scope, str], ASGIApp | None]
"""The answer of a page refusing text for ``reason``, or None where the API answers (JSON)."""


class RefuseNulText:
    """ASGI middleware: 422 ``invalid_text`` for a NUL in the path, the query or a JSON body;
    ``on_page``'s answer instead where it has one (the dashboard's pages answer in HTML)."""

    def __init__(self, app: ASGIApp, on_page: PageRefusal | None = None) -> None:
        self.app = app
        self.on_page = on_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_address(scope)
        if where is None and _is_json(scope) and not scope["path"].startswith(WEBHOOK_PATHS):
            try:
                body = await _whole_body(receive)
            except HTTPException as err:  # the body limit, raised outside the app's handlers
                await problem(err.status_code, "body_too_large", str(err.detail))(
                    scope, receive, send
                )
                return
            where = _nul_in_json(body)
            receive = _replay(body, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        page = self.on_page(scope, f"{where}: {MESSAGE}") if self.on_page else None
        answer = page or problem(422, "invalid_text", f"{where}: {MESSAGE}", fields=[_field(where)])
        await answer(scope, receive, send)


def _field(where: str) -> dict[str, str]:
    return {"field": where, "message": MESSAGE}


def _nul_in_address(scope: Scope) -> str | None:
    if has_nul(scope["path"]):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if has_nul(name) or has_nul(value):
            return unquote(name).replace("\x00", "\\x00") or "query"
    return "query"


def _is_json(scope: Scope) -> bool:
    """Whether any Content-Type header names JSON: with two of them, the framework reads one
    and this check must not read the other."""
    return any(
        name.lower() == b"content-type" and b"json" in value.lower()
        for name, value in scope.get("headers", [])
    )


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _nul_in_json(body: bytes) -> str | None:
    if not NUL_IN_JSON.search(body):
        return None
    try:
        document: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON: the route answers invalid_json
    return first_nul(document)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body on, then listens to the server again."""
    sent = False

    async def replaying_receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying_receive
