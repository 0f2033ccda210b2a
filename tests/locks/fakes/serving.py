"""Serve an ASGI app with uvicorn on 127.0.0.1, port 0, in a thread a fixture starts and stops."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

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
