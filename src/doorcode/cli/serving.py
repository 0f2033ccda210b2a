"""``doorcode serve``, ``demo`` and ``worker``: the HTTP service, and the background workers."""

from __future__ import annotations

import errno
import logging
import os
import socket
from functools import partial
from typing import Any

import typer
import uvicorn
from starlette.types import ASGIApp

from doorcode.api.app import create_app
from doorcode.background import background_jobs
from doorcode.cli.api_processes import address_of
from doorcode.cli.collector import resume_collector
from doorcode.cli.context import state_of
from doorcode.cli.installation import DEFAULT_DATA_DIR, UnusableDataDir
from doorcode.cli.terminal_text import say
from doorcode.config import ENV_PREFIX, Runner, Settings, load_settings
from doorcode.demo_world import ensure_demo_user, ensure_demo_world
from doorcode.demo_zigbee import start_demo_zigbee
from doorcode.logs import configure_logging, uvicorn_log_config
from doorcode.runtime import Runtime
from doorcode.services.errors import InvalidRequest
from doorcode.store.database import is_postgres
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.worker import run_worker

__all__ = ["api_process", "demo", "serve", "server_config", "worker"]

MANY_PROCESSES_NEED_WORKERS = (
    "doorcode serve --workers above 1 needs DOORCODE_RUNNER=worker (PostgreSQL): each API "
    "process would otherwise run its own lock sync, feed polling and messages"
)
NEEDS_POSTGRES = (
    "doorcode worker needs PostgreSQL (DOORCODE_DATABASE_URL=postgresql://...); "
    "on SQLite, doorcode serve reconciles the locks itself"
)

logger = logging.getLogger(__name__)


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (DOORCODE_HOST)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Listen port (DOORCODE_PORT)."),
    workers: int = typer.Option(
        1, min=1, max=64, help="API processes sharing the port (above 1: DOORCODE_RUNNER=worker)."
    ),
) -> None:
    """Run the API (after bringing the database up to date)."""
    resume_collector()
    runtime = state_of(ctx).runtime(create=True)
    settings = runtime.settings
    host, port = host or settings.host, port or settings.port
    _link_to(settings, host, port)
    if workers == 1:
        _serve(runtime, host, port)
    else:
        _serve_processes(runtime, host, port, workers)


def demo(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (DOORCODE_HOST)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Listen port (DOORCODE_PORT)."),
) -> None:
    """Create the demo world if it is not there yet, print how to try it, and serve it.

    The demo lives in ./var (or DOORCODE_DATA_DIR), never in an installation the config file
    remembers from elsewhere: it must not plant a demo organisation in someone's real one.
    """
    resume_collector()
    state = state_of(ctx)
    if "DOORCODE_DATA_DIR" not in os.environ:
        state.settings_factory = partial(Settings, data_dir=DEFAULT_DATA_DIR)
    runtime = state.runtime(create=True)
    settings = runtime.settings
    if "console_messages" not in settings.model_fields_set:
        settings.console_messages = True  # the demo's guests' phone is this terminal
    address = address_of(host or settings.host, port or settings.port)
    _refuse_a_port_in_use(host or settings.host, port or settings.port)
    _link_to(settings, host or settings.host, port or settings.port)
    world = ensure_demo_world(runtime)
    user = ensure_demo_user(runtime)
    say(f"doorcode demo at {address}  (organisation '{world.organisation_slug}')")
    say(
        f"dashboard: {address}/ sign in as {user.username} / {user.password} "
        f"(kept in {settings.data_dir}/demo-user.txt)"
    )
    if user.guidebook_url:
        say(f"guidebook of a guest staying now: {user.guidebook_url}")
    say(f"API key (owner): {world.api_key}")
    say(f"try: curl -H 'Authorization: Bearer {world.api_key}' {address}/api/v1/reservations")
    say(
        "and the virtual keypads: doorcode grant list, doorcode grant show GRANT_ID --reveal, "
        "then doorcode keypad enter 'Flat 1A door' CODE"
    )
    if world.webhook_path:
        say(
            f"webhooks: POST {address}{world.webhook_path} (secret in "
            f"{runtime.settings.data_dir}/demo-webhook-secret.txt, see docs/sources.md)"
        )
    say(
        "guest messages print here once each code is on its locks; "
        "`doorcode messages list` shows the log"
    )
    zigbee = start_demo_zigbee(runtime, world.organisation_slug)
    say(zigbee.message)
    try:
        _serve(runtime, host or settings.host, port or settings.port)
    finally:
        zigbee.stop()


def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(4, min=1, max=64, help="Locks worked on at once."),
    name: str | None = typer.Option(None, help="Worker name in logs and job records."),
) -> None:
    """Run lock sync, feeds, PMS pushes and guest messages as jobs on PostgreSQL (any number)."""
    resume_collector()
    state = state_of(ctx)
    if not is_postgres(load_settings(state.settings_factory or Settings).resolved_database_url()):
        raise InvalidRequest(NEEDS_POSTGRES)  # before a data directory is made for nothing
    try:
        runtime = state.runtime(create=True)  # the virtual locks live in its data directory
        unusable = None
    except UnusableDataDir as err:
        # A worker needs the folder only for the simulated locks: on a read-only file system
        # (a container, a unit without a home) it works the real ones without it.
        runtime, unusable = state.runtime(), err
    configure_logging(runtime.settings.log_level)
    if unusable is not None:
        logger.warning("%s; virtual locks are not simulated by this worker", unusable)
    install_virtual_locks(runtime)
    run_worker(runtime, concurrency=concurrency, name=name)


_EVERY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 (compared with, never bound)


def _link_to(settings: Settings, host: str, port: int) -> None:
    """Point guidebook links (and the cookie's Secure flag) at the address served, unless
    ``DOORCODE_PUBLIC_URL`` says otherwise: its default names port 8000 on 127.0.0.1, which
    under ``--port 9000`` would send every guest to a page nothing serves.

    Listening on every address (``0.0.0.0``, as in a container) names no address a guest
    could use: the links then name this machine's own, and the operator is told to set one.
    """
    if "public_url" in settings.model_fields_set:
        return
    if host in _EVERY_ADDRESS:
        settings.public_url = address_of("127.0.0.1", port)
        logger.warning(
            "DOORCODE_PUBLIC_URL is not set: guests' links start %s, which only this machine "
            "reaches; set it to the address guests use",
            settings.public_url,
        )
    else:
        settings.public_url = address_of(host, port)


def _serve(runtime: Runtime, host: str, port: int) -> None:
    settings = runtime.settings
    if settings.runner is Runner.WORKER and not is_postgres(settings.resolved_database_url()):
        raise InvalidRequest("DOORCODE_RUNNER=worker needs PostgreSQL: " + NEEDS_POSTGRES)
    _refuse_a_port_in_use(host, port)
    configure_logging(settings.log_level)
    install_virtual_locks(runtime)
    app = create_app(runtime, background_jobs(runtime))
    uvicorn.Server(server_config(app, settings, host, port)).run()


_TAKEN = (errno.EADDRINUSE, errno.EACCES)
"""What a probe's bind meets when the port is another's or privileged: a refusal now."""


def _refuse_a_port_in_use(host: str, port: int) -> None:
    """Refuse, in one line, an address something already listens on, before anything starts.

    Left to uvicorn, a port in use is found only after the application has started (lock
    sync, feeds and guest messages running for a moment in a process that then quits with
    uvicorn's log lines and exit code 3), and after ``demo`` printed where to sign in. Each
    address the host names is bound as uvicorn (asyncio) binds it, then let go for uvicorn.
    """
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as err:
        raise InvalidRequest(f"cannot listen on {host}:{port}: {err.strerror}") from err
    failures: list[OSError] = []
    for family, kind, protocol, _, address in found:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as err:
                if err.errno in _TAKEN:
                    raise InvalidRequest(f"cannot listen on {host}:{port}: {err.strerror}") from err
                failures.append(err)
    # An address this machine cannot have (IPv6 turned off beside a ``::1 localhost`` line,
    # say) is refused only when every address is: asyncio skips one and serves on the others.
    if failures and len(failures) == len(found):
        reason = failures[0].strerror
        raise InvalidRequest(f"cannot listen on {host}:{port}: {reason}") from failures[0]


def _serve_processes(runtime: Runtime, host: str, port: int, workers: int) -> None:
    """Serve from ``workers`` processes on one port; each builds its own runtime and, where the
    system spreads connections that way, listens on a socket of its own.

    Only the job queue can share the background work among processes, so this needs
    ``DOORCODE_RUNNER=worker``. The database was migrated here, once, before they start.
    """
    settings = runtime.settings
    if settings.runner is not Runner.WORKER:
        raise InvalidRequest(MANY_PROCESSES_NEED_WORKERS)
    if not is_postgres(settings.resolved_database_url()):
        raise InvalidRequest("DOORCODE_RUNNER=worker needs PostgreSQL: " + NEEDS_POSTGRES)
    from doorcode.cli.api_processes import (
        CannotStart,
        balances_connections,
        listening_sockets,
        serve_processes,
    )

    configure_logging(settings.log_level)
    install_virtual_locks(runtime)
    runtime.close()
    # Each process builds its settings from the environment, so it is told the link too.
    os.environ[f"{ENV_PREFIX}PUBLIC_URL"] = settings.public_url
    application = f"{__name__}:{api_process.__name__}"
    options = _server_options(settings, host, port)
    if not balances_connections():  # uvicorn's workers share one socket (see api_processes)
        uvicorn.run(application, factory=True, workers=workers, **options)
        return
    try:
        sockets = listening_sockets(host, port, workers)
    except OSError as err:
        raise InvalidRequest(f"cannot listen on {host}:{port}: {err.strerror}") from err
    try:
        serve_processes(application, options, sockets)
    except CannotStart as err:
        raise InvalidRequest(str(err)) from err


def api_process() -> ASGIApp:
    """The application of one ``serve --workers`` process, wired from the same settings."""
    from doorcode.bootstrap import bootstrap
    from doorcode.cli.installation import locate

    runtime = bootstrap(locate(Settings(), create=False), migrate=False)
    configure_logging(runtime.settings.log_level)
    return create_app(runtime, background_jobs(runtime))


def server_config(app: ASGIApp, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """Uvicorn's settings for one process serving ``app``."""
    return uvicorn.Config(app, **_server_options(settings, host, port))


def _server_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """Redacted logs, ``X-Forwarded-For`` only from trusted proxies, a long keep-alive.

    Uvicorn believes the header from 127.0.0.1 unless told otherwise, so anything on the
    machine (or a proxy that passes the header through) could pick its own client address.
    Idle connections stay open ``DOORCODE_KEEP_ALIVE_SECONDS``, longer than the clients'.
    """
    proxies = [each.strip() for each in settings.trusted_proxies.split(",") if each.strip()]
    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "log_config": uvicorn_log_config(),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }
