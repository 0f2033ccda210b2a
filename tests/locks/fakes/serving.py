"""Serve an ASGI app with uvicorn on 127.0.0.1, port 0, in a thread a fixture starts and stops."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from doorcode.domain.clock import Clock
from doorcode.locks.base import LockProvider, ProviderAccount

START_WAIT = 10.0


@contextlib.contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` until the block ends; yields its base URL. Fails within seconds if it cannot."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-lock-cloud", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_WAIT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the fake server did not start within {START_WAIT} s")
        time.sleep(0.02)
    sockets: list[socket.socket] = [s for srv in server.servers for s in srv.sockets]
    port = sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_WAIT)


def provider_runner(
    kind: type[LockProvider], account: ProviderAccount, clock: Clock
) -> Callable[[Callable[[Any], Awaitable[Any]]], Any]:
    """Runs one coroutine against a provider built from ``account``, as a session would: a
    fresh HTTP client lent to it, and the provider closed afterwards."""

    def run(action: Callable[[Any], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(timeout=5) as http:
                built = kind.from_account(account, http=http, clock=clock)
                try:
                    return await action(built)
                finally:
                    await built.aclose()

        return asyncio.run(go())

    return run
