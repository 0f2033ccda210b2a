"""The pages on the FastAPI application: dashboard and guidebook routers, static files, and
the security headers every page carries.

``api/app.py`` calls ``install_pages`` once. The pages share the API's runtime but not its
authentication: people sign in with a session cookie, guests hold a guidebook token.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorcode.web import (
    audit,
    codes,
    dashboard,
    guide_pages,
    guidebook,
    locks,
    properties,
    provider_accounts,
    reservation_forms,
    reservations,
    schedules,
    search,
    sign_in,
    timeline,
)
from doorcode.web.routing import error_page

__all__ = [
    "PAGE_HEADERS",
    "PAGE_ROUTERS",
    "GuideTokenRedaction",
    "PageSecurityHeaders",
    "install_pages",
    "text_refused_page",
]

PAGE_HEADERS = {
    # No inline script or style anywhere: a value that slipped past escaping still cannot run.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
API_PATHS = ("/api/", "/webhooks/", "/docs", "/redoc", "/openapi.json", "/healthz")
PAGE_ROUTERS = tuple(
    module.router
    for module in (
        sign_in,
        dashboard,
        search,
        reservation_forms,
        reservations,
        codes,
        schedules,
        guide_pages,
        properties,
        locks,
        provider_accounts,
        timeline,
        audit,
        guidebook,
    )
)


def install_pages(app: FastAPI) -> None:
    """Mount the dashboard, the guidebook and their static files on ``app``."""
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("doorcode.web", "static")]), name="static")
    app.add_middleware(PageSecurityHeaders)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(each, GuideTokenRedaction) for each in access_log.filters):
        access_log.addFilter(GuideTokenRedaction())


class GuideTokenRedaction(logging.Filter):
    """Masks guidebook tokens in access log lines: a token in a log opens a guest's codes."""

    TOKEN = re.compile(r"(/guide/)[^/?#\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.TOKEN.sub(r"\1***", record.msg)
        return True


def text_refused_page(scope: Scope, reason: str) -> ASGIApp | None:
    """The error page for text refused before any route ran (a NUL in the address), as
    ``PageRoute`` answers a query it cannot read; None on the API's paths, which answer JSON."""
    if scope.get("path", "").startswith(API_PATHS):
        return None
    return error_page(Request(scope), 400, "Bad request", reason)


class PageSecurityHeaders:
    """Adds ``PAGE_HEADERS`` to every answer outside the API (whose docs page loads a CDN)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(API_PATHS):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.encode(), value.encode())
                    for name, value in PAGE_HEADERS.items()
                    if name.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
