"""The FastAPI application: routers, error answers, body limit, and the runtime it serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from doorcode import __version__
from doorcode.api import (
    access_events,
    alerts,
    events,
    feeds,
    grants,
    lock_webhooks,
    locks,
    messages,
    offline,
    properties,
    provider_accounts,
    reservations,
    schedules,
    sources,
    webhooks,
)
from doorcode.api.auth import NotAuthenticated
from doorcode.api.body_limit import BodySizeLimit
from doorcode.api.problems import ERROR_RESPONSES, install_problem_handlers, problem
from doorcode.api.query_parameters import refuse_unknown_query_parameters
from doorcode.api.text_inputs import RefuseNulText
from doorcode.background import BackgroundJob
from doorcode.notify.errors import InvalidTemplate
from doorcode.runtime import Runtime
from doorcode.web.app import install_pages, text_refused_page

__all__ = ["create_app"]

API_PREFIX = "/api/v1"


def create_app(runtime: Runtime, background: Sequence[BackgroundJob] = ()) -> FastAPI:
    """The whole HTTP application over ``runtime``, running ``background`` jobs while it lives."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job()) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(
        lifespan=lifespan,
        title="doorcode",
        version=__version__,
        description="Unique, time-limited door codes for every guest, on every smart lock.",
    )
    app.state.runtime = runtime
    # Routes match in the order they were added, and a path is tried against every route of
    # an included router before the next: the webhook route, the busiest by far, goes first.
    webhooks.install(app)
    app.include_router(lock_webhooks.router)
    api = APIRouter(
        prefix=API_PREFIX,
        responses=ERROR_RESPONSES,
        dependencies=[Depends(refuse_unknown_query_parameters)],
    )
    modules = (
        properties,
        locks,
        provider_accounts,
        reservations,
        grants,
        schedules,
        events,
        alerts,
        offline,
        sources,
        feeds,
        access_events,
    )
    for module in modules:
        api.include_router(module.router)
    for router in messages.routers:
        api.include_router(router)
    app.include_router(api)
    app.add_api_route("/healthz", health, methods=["GET"], tags=["health"])
    install_problem_handlers(app)
    app.add_exception_handler(InvalidTemplate, messages.invalid_template)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_middleware(RefuseNulText, on_page=text_refused_page)
    app.add_middleware(BodySizeLimit)  # outside: it bounds what RefuseNulText reads
    install_pages(app)  # the dashboard and the guests' guidebooks (doorcode.web)
    return app


def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": __version__}


async def _not_authenticated(_request: Request, _exc: Exception) -> JSONResponse:
    response = problem(401, "not_authenticated", "a valid API key is required")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response
