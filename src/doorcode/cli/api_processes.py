"""``doorcode serve --workers N``: N API processes, each listening on a socket of its own.

Uvicorn's own workers share one listening socket, and the process whose event loop wakes
first accepts every connection waiting. Clients that open their connections together and keep
them alive (a proxy's pool of upstream connections, a PMS, a load test) all land on that one
process while the others idle, for as long as the connections live: with 16 such connections
and 2 processes on 2 cores, half the runs of ``bench/ingest.py`` had one process serve every
request (about 150 new bookings a second, against about 200 when they were spread). Here each
process binds the port with ``SO_REUSEPORT``, and the kernel hands each new connection to one
of the sockets by a hash of its addresses.

The supervisor keeps the sockets and looks after the processes as uvicorn's does:

* a process that dies, or once it has answered a ping does not answer one within
  ``PING_TIMEOUT`` (hung: the kernel would go on queueing its share of the connections), is
  replaced on the same socket;
* one that fails to start (its app cannot be built: a database it cannot reach, a key it
  cannot read), or has not started serving ``STARTUP_TIMEOUT`` after it began (stuck
  importing or building its app, while still answering "not yet"), stops ``serve`` with an
  error at first start, rather than a loop of restarts; a replacement that fails either way
  is killed and tried again after a pause that grows to ``MOST_BACKOFF``;
* SIGINT and SIGTERM stop every process gracefully (uvicorn finishes the requests in hand);
  SIGHUP replaces them one at a time, each new one serving before the old one stops;
* SIGTTIN adds a process, on a new socket of its own on the same port; SIGTTOU retires the
  last one added, down to one: its socket leaves the port and it finishes the requests in hand.

A socket leaving the port drops the connections the kernel had queued on it and its process
had not yet accepted, unless ``net.ipv4.tcp_migrate_req`` is set (Linux 5.14), which hands
them to the other sockets; under load, a few clients may see a reset at SIGTTOU.
"""

from __future__ import annotations

import errno
import logging
import math
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

__all__ = [
    "PING_TIMEOUT",
    "STARTUP_TIMEOUT",
    "CannotStart",
    "Timing",
    "address_of",
    "balances_connections",
    "listening_sockets",
    "serve_processes",
]

logger = logging.getLogger(__name__)

PING_TIMEOUT = 5.0
"""Seconds a process that has answered a ping has to answer the next before it is taken for
hung."""
STARTUP_TIMEOUT = 60.0
"""Seconds a new process has to start serving, from its start: import, build the app, listen.

Far longer than ``PING_TIMEOUT``: building the app opens the database, and with every process
starting at once on a busy machine the imports alone can take seconds. Until its first answer
a silent process is not taken for hung (its answering thread may not run yet); one not serving
by then, whether it answered "not yet" all along or never answered, could not start."""
STOP_WAIT = 30.0
"""Seconds each process gets to finish its requests once told to stop."""
TICK = 0.5
"""Seconds between two looks at the processes and the signals received."""
MOST_BACKOFF = 5.0
"""The longest pause before another try at a replacement that could not start."""
CLAIM_WAIT = 5.0
"""Seconds a ``serve`` waits for another one starting on the same port to bind its sockets."""


class CannotStart(Exception):
    """An API process could not start; ``serve`` stops rather than start it again and again."""


@dataclass(frozen=True)
class Timing:
    """The supervisor's waits, in seconds: the constants above unless a test shortens them."""

    ping: float = PING_TIMEOUT
    startup: float = STARTUP_TIMEOUT
    stop: float = STOP_WAIT
    tick: float = TICK
    most_backoff: float = MOST_BACKOFF


def balances_connections() -> bool:
    """Whether this system spreads connections over sockets sharing a port (Linux does; macOS
    accepts ``SO_REUSEPORT`` but gives every connection to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets sharing ``host:port``; ``OSError`` if anything listens there already,
    another ``serve`` included.

    Sockets that all set ``SO_REUSEPORT`` share a port, so a second ``serve`` started by
    mistake would quietly take half the connections. A socket without it cannot be bound
    while any socket listens there: one bound and closed first tells. Two ``serve``s probing
    in the same instant would both pass, so each probes and binds under a claim on the port.
    """
    with _claim(port):
        with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT's
            probe.bind((host, port))
        made: list[socket.socket] = []
        try:
            for _ in range(count):
                made.append(_listening(host, port))
        except OSError:
            for each in made:
                each.close()
            raise
    return made


@contextmanager
def _claim(port: int) -> Iterator[None]:
    """Keep every other ``serve`` from probing ``port`` until this one's sockets listen.

    The claim is a name in Linux's abstract Unix socket namespace, which is one per network
    namespace: the very scope of ports, whatever the users, data directories or private
    ``/tmp`` of the two ``serve``s. Plain sockets cannot be the guard: two bound without
    listening coexist (as two probes do), and one bound without ``SO_REUSEADDR`` keeps our
    own ``SO_REUSEPORT`` sockets off the port too. The name is per port, not per address,
    as ``0.0.0.0`` and ``127.0.0.1`` overlap; it is held only while binding, so ``serve``s
    on two addresses of one port can both run. The kernel frees it if its process dies.
    """
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        deadline = time.monotonic() + CLAIM_WAIT
        while True:
            try:
                claim.bind(b"\0doorcode serve port %d" % port)
                break
            except OSError as err:
                if err.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        yield
    finally:
        claim.close()


def serve_processes(
    application: str,
    options: dict[str, Any],
    sockets: list[socket.socket],
    timing: Timing | None = None,
) -> None:
    """Serve the app factory ``application`` from one process per socket until SIGINT or
    SIGTERM; ``options`` are uvicorn's. The sockets are closed on the way out."""
    timing = timing or Timing()
    received: list[int] = []  # the handler only appends: it may run inside any lock's hold
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU)
    previous = {sig: signal.signal(sig, _appender(received)) for sig in handled}
    running: list[_ApiProcess] = []
    retiring: list[_ApiProcess] = []
    logger.info(
        "running on %s with %d API processes (Press CTRL+C to quit)",
        address_of(str(options["host"]), sockets[0].getsockname()[1]),
        len(sockets),
    )
    try:
        running.extend(_ApiProcess(application, options, each, timing) for each in sockets)
        _supervise(running, retiring, received, timing)
    finally:
        _stop_all(running + retiring, sockets)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def address_of(host: str, port: int) -> str:
    """The URL of ``host:port``, an IPv6 address in brackets, as uvicorn words where it
    listens (which it does not when handed sockets: the supervisor says it, with the port
    bound, the one chosen for 0)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _appender(received: list[int]) -> Any:
    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    return handle


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening(host: str, port: int) -> socket.socket:
    listening = _bound(_family(host), (host, port))
    try:
        listening.listen(2048)
    except OSError:
        listening.close()
        raise
    return listening


def _bound(family: socket.AddressFamily, address: Any) -> socket.socket:
    """A socket bound to ``address`` beside others with ``SO_REUSEPORT``, not listening yet:
    the kernel hands a socket connections only once it listens."""
    bound = socket.socket(family, socket.SOCK_STREAM)
    try:
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        bound.bind(address)
    except OSError:
        bound.close()
        raise
    return bound


class _ApiProcess:
    """One API process on its socket, with the pipe the supervisor pings it through."""

    def __init__(
        self,
        application: str,
        options: dict[str, Any],
        listening: socket.socket,
        timing: Timing,
        *,
        first: bool = True,
        failures: int = 0,
    ) -> None:
        self.application, self.options, self.listening = application, options, listening
        self.timing = timing
        self.first = first
        """One of the processes ``serve`` started with, not a replacement."""
        self.failures = failures
        """How many replacements in a row before this one could not start."""
        self.answered = False
        """Whether it has answered a ping: its answering thread runs, so silence means hung."""
        self.serving = False
        """Whether it has answered that its server started."""
        self.start_by = time.monotonic() + timing.startup
        self.stop_by = math.inf
        # Both ends stay open here while it lives: the child gets its end only once started,
        # and a pipe with no writer left would read as a dead process meanwhile.
        self._ours, self._theirs = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process: SpawnProcess = context.Process(
            target=_serve_one, args=(application, options, listening, self._theirs)
        )
        self.process.start()
        # Asked at once, it answers before it builds its app, and so before it can serve.
        self._ours.send(b"ping")
        self._pinged = True

    def renewed(self, failures: int = 0) -> _ApiProcess:
        """A new process on the same socket."""
        return _ApiProcess(
            self.application,
            self.options,
            self.listening,
            self.timing,
            first=False,
            failures=failures,
        )

    def answers(self, timeout: float) -> bool | None:
        """None without an answer in time, else whether its server has started.

        A ping still unanswered is not sent again: the answers to a pile of them would each
        be read later as the answer to a newer one, and tell of the process as it was."""
        try:
            if not self._pinged:
                self._ours.send(b"ping")
                self._pinged = True
            if self._ours.poll(timeout):
                self._pinged = False
                self.answered = True
                self.serving = bool(self._ours.recv()) or self.serving
                return self.serving
        except (OSError, EOFError):
            pass
        return None

    def trouble(self) -> str | None:
        """Why it must be replaced (ended, hung, or not serving by ``start_by``), or None.

        Until its first answer it is not waited on: its answering thread may not run yet, and
        the supervisor would stand still through every tick of a slow start."""
        if not self.process.is_alive():
            return f"ended (exit code {self.process.exitcode})"
        if not self.answered:
            self.answers(0)
        elif self.answers(self.timing.ping) is None:
            return f"did not answer for {self.timing.ping:g} s"
        if self.serving or time.monotonic() < self.start_by:
            return None
        return f"did not start serving within {self.timing.startup:g} s"

    def late(self) -> bool:
        """Alive past ``start_by`` without ever serving: one that could not start."""
        return self.process.is_alive() and not self.serving and time.monotonic() >= self.start_by

    def stop(self) -> None:
        """Ask it to finish (SIGTERM: uvicorn completes the requests in hand) by ``stop_by``."""
        self.stop_by = min(self.stop_by, time.monotonic() + self.timing.stop)
        if self.process.is_alive():
            self.process.terminate()

    def end(self, wait: float) -> None:
        """Wait ``wait`` seconds for it to finish, then kill it."""
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._ours.close()
        self._theirs.close()


def _serve_one(
    application: str, options: dict[str, Any], listening: socket.socket, pings: Connection
) -> None:
    """The body of one API process: uvicorn on the socket it was given, and an answer to
    each ping from a thread of its own (a hung event loop still answers; a stopped or
    deadlocked interpreter does not)."""
    config = uvicorn.Config(application, factory=True, **options)
    server = uvicorn.Server(config)

    def answer() -> None:
        while True:
            pings.recv()
            pings.send(server.started)

    threading.Thread(target=answer, daemon=True).start()  # "not yet" while it starts
    try:
        config.load()  # uvicorn exits with STARTUP_FAILURE itself for some faults, not all
    except Exception:
        logging.getLogger("uvicorn.error").exception("the API application could not be built")
        sys.exit(STARTUP_FAILURE)
    server.run(sockets=[listening])


def _supervise(
    running: list[_ApiProcess], retiring: list[_ApiProcess], received: list[int], timing: Timing
) -> None:
    """Look after the processes until SIGINT or SIGTERM."""
    while True:
        time.sleep(timing.tick)
        while received:
            signum = received.pop(0)
            if signum in (signal.SIGINT, signal.SIGTERM):
                return
            if signum == signal.SIGHUP:
                logger.warning("SIGHUP: replacing the API processes one at a time")
                _restart_all(running)
            elif signum == signal.SIGTTIN:
                _add_one(running)
            else:
                _retire_one(running, retiring)
        _reap(retiring)
        for index, each in enumerate(running):
            trouble = each.trouble()
            if trouble is not None:
                running[index] = _replaced(each, trouble)


def _replaced(each: _ApiProcess, trouble: str) -> _ApiProcess:
    """A new process for one that died, hung or never started; ``CannotStart`` if one of the
    first could not start."""
    late = each.late()
    each.process.kill()
    each.end(0)
    if late or each.process.exitcode == STARTUP_FAILURE:
        return _tried_again(each, trouble if late else "could not start")
    logger.warning("an API process %s; starting another", trouble)
    return each.renewed()


def _tried_again(each: _ApiProcess, why: str) -> _ApiProcess:
    """Another try, after a pause, for a replacement that could not start (``why``);
    ``CannotStart`` for one of the first."""
    if each.first:
        logger.error("an API process %s", why)
        raise CannotStart("an API process could not start; see the log above")
    pause = min(each.timing.most_backoff, 2.0**each.failures)
    logger.error("a new API process %s; trying again in %g s", why, pause)
    time.sleep(pause)
    return each.renewed(each.failures + 1)


def _restart_all(running: list[_ApiProcess]) -> None:
    """Replace each process once its replacement serves; keep it if that never happens."""
    for index, old in enumerate(running):
        new = old.renewed()
        while new.process.is_alive() and not new.answers(1) and time.monotonic() < new.start_by:
            time.sleep(0.1)
        if not new.process.is_alive() or not new.serving:
            logger.warning("a new API process did not start serving; keeping the old ones")
            new.stop()
            new.end(new.timing.stop)
            return
        old.stop()
        old.end(old.timing.stop)
        running[index] = new


def _add_one(running: list[_ApiProcess]) -> None:
    """Another process, on a new socket of its own beside the others on their port.

    The socket listens once its process serves (asyncio makes the sockets it is given listen):
    until then the kernel hands it no connection to wait in its queue."""
    newest = running[-1]
    try:
        bound = _bound(newest.listening.family, newest.listening.getsockname())
    except OSError as err:
        logger.error("SIGTTIN: no socket for another API process: %s", err.strerror)
        return
    application, options, timing = newest.application, newest.options, newest.timing
    running.append(_ApiProcess(application, options, bound, timing, first=False))
    logger.info("SIGTTIN: one more API process, %d now", len(running))


def _retire_one(running: list[_ApiProcess], retiring: list[_ApiProcess]) -> None:
    """Retire the process added last, never the only one, as SIGTERM would: its socket leaves
    the port once its process stops listening, and it finishes the requests in hand."""
    if len(running) == 1:
        logger.info("SIGTTOU: keeping the last API process")
        return
    leaving = running.pop()
    leaving.listening.close()  # the supervisor's copy: its process holds the socket till it stops
    leaving.stop()
    retiring.append(leaving)
    logger.info("SIGTTOU: one API process fewer, %d now", len(running))


def _reap(retiring: list[_ApiProcess]) -> None:
    """Forget the retired processes that have ended; kill those still there at ``stop_by``."""
    for each in list(retiring):
        if each.process.is_alive() and time.monotonic() < each.stop_by:
            continue
        if each.process.is_alive():
            logger.warning("a retired API process did not end in %g s; killed", each.timing.stop)
        each.end(0)
        retiring.remove(each)


def _stop_all(running: list[_ApiProcess], sockets: list[socket.socket]) -> None:
    """Ask every process to finish, then make sure, at its ``stop_by``.

    The supervisor's copies of the sockets close at once: each socket then closes as soon as
    its process stops listening, and a proxy is refused and tries elsewhere, rather than
    waiting on a backlog nobody reads.
    """
    for each in running:
        each.stop()
    for listening in [*sockets, *(each.listening for each in running)]:
        listening.close()
    for each in running:
        each.end(max(0.0, each.stop_by - time.monotonic()))
