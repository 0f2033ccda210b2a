"""``doorcode serve --workers N``: N API processes, each listening on a socket of its own.

Uvicorn's own workers share one listening socket, and the process whose event loop wakes
first accepts every connection waiting. Clients that open their connections together and keep
them alive (a proxy's pool of upstream connections, a PMS, a load test) all land on that one
process while the others idle, for as long as the connections live: with 16 such connections
and 2 processes on 2 cores, half the runs of ``bench/ingest.py`` had one process serve every
request (about 150 new bookings a second, against about 250 when they were spread). Here each
process binds the port with ``SO_REUSEPORT``, and the kernel hands each new connection to one
of the sockets by a hash of its addresses.

The supervisor keeps the sockets, so a process that dies is replaced on the same socket and
no connection is refused meanwhile (the kernel queues them on the dead process's socket until
the new one accepts). A process that dies within ``START_GRACE`` of its start is a process
that cannot start (a database it cannot reach, a port it cannot use): then ``serve`` stops
with an error instead of starting it again and again.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn

__all__ = ["START_GRACE", "CannotStart", "balances_connections", "serve_processes"]

logger = logging.getLogger(__name__)

START_GRACE = 5.0
"""Seconds a new API process must live to count as started."""
STOP_WAIT = 30.0
"""Seconds each process gets to finish its requests once told to stop."""


class CannotStart(Exception):
    """An API process ended as soon as it started; ``serve`` stops rather than loop."""


def balances_connections() -> bool:
    """Whether this system spreads connections over sockets sharing a port (Linux does; macOS
    accepts ``SO_REUSEPORT`` but gives every connection to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


@dataclass
class _Running:
    """One API process and the socket it serves."""

    listening: socket.socket
    process: SpawnProcess
    started: float


def serve_processes(application: str, options: dict[str, Any], workers: int) -> None:
    """Run ``workers`` processes serving the app factory ``application`` until SIGINT or
    SIGTERM; ``options`` are uvicorn's (host, port and the rest)."""
    _refuse_if_taken(options["host"], options["port"])
    sockets = [_listening(options["host"], options["port"]) for _ in range(workers)]
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [_start(application, options, listening) for listening in sockets]
    try:
        _supervise(application, options, running, stop)
    finally:
        _stop_all(running)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for listening in sockets:
            listening.close()


def _setter(stop: threading.Event) -> Any:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return handle


def _refuse_if_taken(host: str, port: int) -> None:
    """``OSError`` if anything listens on the port already, another ``serve`` included.

    Sockets that all set ``SO_REUSEPORT`` share a port: a second ``serve`` started by mistake
    would quietly take half the connections. A socket without it cannot be bound while any
    socket listens there, so one bound and closed first tells.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT
        probe.bind((host, port))


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening(host: str, port: int) -> socket.socket:
    """A socket on ``host:port`` that other sockets of this user may share."""
    listening = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError:
        listening.close()
        raise
    return listening


def _start(application: str, options: dict[str, Any], listening: socket.socket) -> _Running:
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=_serve_one, args=(application, options, listening))
    process.start()
    return _Running(listening, process, time.monotonic())


def _serve_one(application: str, options: dict[str, Any], listening: socket.socket) -> None:
    """The body of one API process: uvicorn on the socket it was given."""
    config = uvicorn.Config(application, factory=True, **options)
    uvicorn.Server(config).run(sockets=[listening])


def _supervise(
    application: str, options: dict[str, Any], running: list[_Running], stop: threading.Event
) -> None:
    """Replace a process that ends while ``serve`` runs; stop if one cannot start at all."""
    while not stop.wait(0.5):
        for index, each in enumerate(running):
            if each.process.is_alive():
                continue
            code = each.process.exitcode
            if time.monotonic() - each.started < START_GRACE:
                raise CannotStart(
                    f"an API process ended as it started (exit code {code}); see the log above"
                )
            logger.warning("an API process ended (exit code %s); starting another", code)
            running[index] = _start(application, options, each.listening)


def _stop_all(running: list[_Running]) -> None:
    """Ask every process to finish (SIGTERM: uvicorn completes the requests in hand), then
    make sure, after ``STOP_WAIT``."""
    for each in running:
        if each.process.is_alive():
            each.process.terminate()
    deadline = time.monotonic() + STOP_WAIT
    for each in running:
        each.process.join(max(0.0, deadline - time.monotonic()))
        if each.process.is_alive():
            each.process.kill()
            each.process.join()
