"""The ``serve --workers`` supervisor's signals, and a process that hangs.

Each test runs ``serve_processes`` in a process of its own (its own session, so whatever is
left can be killed by group) with an application that needs no database.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from doorcode.cli.api_processes import balances_connections
from tests.cli.test_api_processes import children, free_port

pytestmark = pytest.mark.skipif(not balances_connections(), reason="Linux spreads connections")

APP = """
import os

async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})

def factory():
    return _app
"""

SERVE = """
import sys
sys.path.insert(0, {folder!r})

if __name__ == "__main__":
    from doorcode.cli.api_processes import listening_sockets, serve_processes

    options = {{"host": "127.0.0.1", "port": {port}, "log_level": "warning"}}
    serve_processes("tinyapp:factory", options, listening_sockets("127.0.0.1", {port}, 2))
"""


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def serve(tmp_path):
    """Start ``serve_processes`` in a session of its own; kill the session afterwards."""
    (tmp_path / "tinyapp.py").write_text(APP)
    started = []

    def start() -> tuple[subprocess.Popen[bytes], int, list[int]]:
        port = free_port()
        script = tmp_path / "serve.py"
        script.write_text(SERVE.format(folder=str(tmp_path), port=port))
        process = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
        started.append(process)
        assert wait_until(lambda: answers(port) and len(children(process.pid)) == 2, 30)
        return process, port, children(process.pid)

    yield start
    for process in started:
        kids = children(process.pid)
        for pid in kids:
            os.kill(pid, signal.SIGCONT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        for pid in kids:  # orphans that left the group's parent still share its group
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_sighup_replaces_the_processes_one_at_a_time_and_the_port_keeps_answering(serve):
    # SIGHUP's default action ended the supervisor at once, and its processes served on,
    # orphaned, keeping the port from the next serve. uvicorn's supervisor restarts them.
    process, port, kids = serve()
    os.kill(process.pid, signal.SIGHUP)
    unanswered = 0
    deadline = time.monotonic() + 60
    while set(children(process.pid)) & set(kids) and time.monotonic() < deadline:
        unanswered += not answers(port)
        time.sleep(0.05)
    assert process.poll() is None, "serve ended on SIGHUP"
    assert not set(children(process.pid)) & set(kids), "the old processes are still there"
    assert len(children(process.pid)) == 2
    assert unanswered == 0
    assert answers(port)


@pytest.mark.slow
def test_a_process_that_hangs_is_replaced_and_takes_no_new_connections(serve):
    # With SO_REUSEPORT the kernel keeps handing a hung process's socket its share of the new
    # connections; they wait in its backlog. uvicorn's supervisor pings each process and
    # replaces one that does not answer within 5 s.
    process, port, kids = serve()
    os.kill(kids[0], signal.SIGSTOP)
    replaced = wait_until(lambda: kids[0] not in children(process.pid), 15)
    answered = sum(answers(port) for _ in range(20))
    assert replaced, "a hung API process was never replaced"
    assert answered == 20
