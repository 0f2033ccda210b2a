"""``doorcode serve`` and ``doorcode demo``: the HTTP service, embedded or with the demo world."""

from __future__ import annotations

import logging

import typer
import uvicorn

from doorcode.api.app import create_app
from doorcode.background import background_jobs
from doorcode.bootstrap import Runtime
from doorcode.cli.context import state_of
from doorcode.demo_world import ensure_demo_world

__all__ = ["demo", "serve"]

logger = logging.getLogger(__name__)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (DOORCODE_HOST)."),
    port: int | None = typer.Option(None, help="Listen port (DOORCODE_PORT)."),
) -> None:
    """Run the API (after bringing the database up to date)."""
    runtime = state_of(ctx).runtime()
    settings = runtime.settings
    _serve(runtime, host or settings.host, port or settings.port)


def demo(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (DOORCODE_HOST)."),
    port: int | None = typer.Option(None, help="Listen port (DOORCODE_PORT)."),
) -> None:
    """Create the demo world if it is not there yet, print how to try it, and serve it."""
    runtime = state_of(ctx).runtime()
    settings = runtime.settings
    if "console_messages" not in settings.model_fields_set:
        settings.console_messages = True  # the demo's guests' phone is this terminal
    address = f"http://{host or settings.host}:{port or settings.port}"
    if "public_url" not in settings.model_fields_set:
        settings.public_url = address  # guidebook links in the demo's messages point here
    world = ensure_demo_world(runtime)
    typer.echo(f"doorcode demo at {address}  (organisation '{world.organisation_slug}')")
    typer.echo(f"API key (owner): {world.api_key}")
    typer.echo(
        f"try: curl -H 'Authorization: Bearer {world.api_key}' {address}/api/v1/reservations"
    )
    typer.echo(
        "guest messages print here once each code is on its locks; "
        "`doorcode messages list` shows the log"
    )
    _serve(runtime, host or settings.host, port or settings.port)


def _serve(runtime: Runtime, host: str, port: int) -> None:
    logging.basicConfig(level=runtime.settings.log_level.upper())
    app = create_app(runtime, background_jobs(runtime))
    uvicorn.run(app, host=host, port=port, log_level=runtime.settings.log_level.lower())
