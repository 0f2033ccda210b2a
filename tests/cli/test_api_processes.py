"""``doorcode serve --workers``: connections spread over the processes, a dead process
replaced, a process that cannot start stops ``serve``, SIGTERM stops them all."""

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from doorcode.cli import api_processes
from doorcode.cli.api_processes import (
    CannotStart,
    balances_connections,
    listening_sockets,
    serve_processes,
)
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.skipif(not balances_connections(), reason="Linux spreads connections")

DOORCODE = Path(sys.executable).parent / "doorcode"
CONNECTIONS = 32
"""Kept alive together: all of them on one process by chance is a 1 in 2**31 event."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(postgres_url, tmp_path):
    """``doorcode serve --workers 2`` as an operator starts it; (process, port)."""
    port = free_port()
    environment = {
        **os.environ,
        "DOORCODE_DATABASE_URL": postgres_url,
        "DOORCODE_SECRET_KEY": TEST_KEY,
        "DOORCODE_DATA_DIR": str(tmp_path),
        "DOORCODE_RUNNER": "worker",
        "DOORCODE_LOG_LEVEL": "WARNING",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    command = [str(DOORCODE), "serve", "--workers", "2", "--port", str(port)]
    process = subprocess.Popen(command, env=environment, start_new_session=True)
    try:
        wait_until(lambda: answers(port) and len(children(process.pid)) == 2, "serve to start")
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds:g} s for {what}")


def children(pid: int) -> list[int]:
    """The API processes: the supervisor's children other than multiprocessing's helpers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def connections_of(pid: int, port: int) -> int:
    """Established TCP connections to ``port`` whose socket ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    established = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            established += 1
    return established


@pytest.mark.slow
@pytest.mark.postgres
def test_connections_opened_together_are_served_by_every_process(served):
    # With one shared socket, the process that woke first took every waiting connection, and
    # kept-alive connections stayed there: half the bench runs had one process do all the work.
    process, port = served
    clients = [httpx.Client(timeout=5) for _ in range(CONNECTIONS)]
    try:
        for client in clients:
            assert client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        per_process = [connections_of(pid, port) for pid in children(process.pid)]
    finally:
        for client in clients:
            client.close()
    assert sum(per_process) == CONNECTIONS
    assert all(count > 0 for count in per_process), per_process


@pytest.mark.slow
@pytest.mark.postgres
def test_a_process_that_dies_is_replaced_and_sigterm_stops_them_all(served):
    process, port = served
    first, second = children(process.pid)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: first not in children(process.pid), "the dead process to be reaped")
    wait_until(
        lambda: process.poll() is not None or len(children(process.pid)) == 2,
        "a process in its place",
    )
    assert process.poll() is None, "serve stopped instead"
    assert second in children(process.pid)
    wait_until(lambda: answers(port), "the port to answer")
    replacement = next(pid for pid in children(process.pid) if pid != second)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    for pid in (second, replacement):
        assert not Path(f"/proc/{pid}").exists()


def broken_app():
    """An application factory that cannot build its application."""
    raise RuntimeError("no database")


def test_a_process_that_cannot_start_stops_serve_instead_of_restarting_forever():
    options = {"host": "127.0.0.1", "port": free_port(), "log_level": "critical"}
    started = time.monotonic()
    sockets = listening_sockets("127.0.0.1", options["port"], 2)
    with pytest.raises(CannotStart, match="could not start"):
        serve_processes(f"{__name__}:broken_app", options, sockets)
    assert time.monotonic() - started < 30


def test_two_serves_started_in_the_same_instant_never_share_the_port(monkeypatch):
    # Each serve probes the port with a plain socket, then binds its own with SO_REUSEPORT:
    # two probes in the same instant both passed, and both serves then split the connections.
    # The pause before each bind widens that instant to a third of a second.
    def slow_listening(*args):
        time.sleep(0.3)
        return listening(*args)

    listening = api_processes._listening
    monkeypatch.setattr(api_processes, "_listening", slow_listening)
    port = free_port()
    together = threading.Barrier(2)
    outcomes = []

    def start():
        together.wait(5)
        try:
            outcomes.append(listening_sockets("127.0.0.1", port, 2))
        except OSError as err:
            outcomes.append(err)

    starts = [threading.Thread(target=start) for _ in range(2)]
    for each in starts:
        each.start()
    for each in starts:
        each.join(10)
        assert not each.is_alive(), "listening_sockets still running after 10 s"
    made = [outcome for outcome in outcomes if isinstance(outcome, list)]
    for sockets in made:
        for each in sockets:
            each.close()
    refused = [outcome.errno for outcome in outcomes if isinstance(outcome, OSError)]
    assert (len(made), refused) == (1, [errno.EADDRINUSE]), outcomes


def test_a_serve_on_another_address_of_the_same_port_starts_once_the_first_listens():
    # What keeps two serves apart on a port is held only while one binds its sockets.
    port = free_port()
    first = listening_sockets("127.0.0.1", port, 1)
    try:
        second = listening_sockets("127.0.0.2", port, 1)
    finally:
        first[0].close()
    second[0].close()
