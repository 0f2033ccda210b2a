"""``doorcode serve --workers``: several API processes, and the keep-alive they all use."""

import os
import socket

import httpx
import pytest
from typer.testing import CliRunner

from doorcode.cli import api_processes, serving
from doorcode.cli.main import app
from doorcode.config import Settings
from tests.conftest import TEST_KEY


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """No DOORCODE_* from outside; data in the test's folder."""
    for name in ("DATABASE_URL", "SECRET_KEY", "RUNNER", "ORGANISATION"):
        monkeypatch.delenv(f"DOORCODE_{name}", raising=False)
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def served(environment, monkeypatch):
    """What ``serve`` handed to uvicorn (or its own processes) instead of serving."""
    calls = []
    monkeypatch.setattr(
        serving.uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    monkeypatch.setattr(
        api_processes, "serve_processes", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    monkeypatch.setattr(
        api_processes, "listening_sockets", lambda _host, _port, count: [None] * count
    )
    return calls


def invoke(*args):
    # serve --workers tells its processes the public URL through the environment: put back
    # what was there, so no later test inherits it.
    kept = {"DOORCODE_PUBLIC_URL": os.environ.get("DOORCODE_PUBLIC_URL")}
    return CliRunner().invoke(app, list(args), env=kept)


def test_several_processes_on_the_embedded_runner_are_refused(served):
    """Each process would run its own lock sync: two reconcilers on the same locks."""
    result = invoke("serve", "--workers", "2")
    assert result.exit_code == 1, result.output
    assert "DOORCODE_RUNNER=worker" in result.output
    assert served == []


def test_several_processes_on_sqlite_are_refused_even_with_the_worker_runner(served, monkeypatch):
    monkeypatch.setenv("DOORCODE_RUNNER", "worker")
    result = invoke("serve", "--workers", "2")
    assert result.exit_code == 1, result.output
    assert "PostgreSQL" in result.output
    assert served == []


@pytest.mark.postgres
def test_each_process_builds_the_app_from_the_same_settings(served, monkeypatch, postgres_url):
    monkeypatch.setenv("DOORCODE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_RUNNER", "worker")
    result = invoke("serve", "--workers", "3", "--port", "8123")
    assert result.exit_code == 0, result.output
    if api_processes.balances_connections():
        ((application, options, sockets), _) = served[0]
        workers = len(sockets)
    else:
        ((application,), options) = served[0]
        workers = options["workers"]
    assert (workers, options["port"]) == (3, 8123)
    module, name = application.split(":")
    built = getattr(__import__(module, fromlist=[name]), name)()
    assert built.state.runtime.settings.database_url == postgres_url
    built.state.runtime.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("explicit", "link"),
    [(None, "http://127.0.0.1:8124"), ("https://stays.example", "https://stays.example")],
    ids=["unset", "explicit"],
)
def test_each_process_links_guidebooks_to_the_port_served(
    served, monkeypatch, postgres_url, explicit, link
):
    # Each process builds its settings from the environment, where the port was not.
    monkeypatch.setenv("DOORCODE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_RUNNER", "worker")
    if explicit:
        monkeypatch.setenv("DOORCODE_PUBLIC_URL", explicit)
    else:
        monkeypatch.delenv("DOORCODE_PUBLIC_URL", raising=False)
    handed = []  # the environment the processes would start with

    def serve_processes(application, *_args):
        handed.append((application, os.environ.get("DOORCODE_PUBLIC_URL")))

    monkeypatch.setattr(api_processes, "serve_processes", serve_processes)
    monkeypatch.setattr(serving.uvicorn, "run", lambda app, **_: serve_processes(app))
    result = invoke("serve", "--workers", "2", "--host", "127.0.0.1", "--port", "8124")
    assert result.exit_code == 0, result.output
    ((application, public_url),) = handed
    if public_url is None:
        monkeypatch.delenv("DOORCODE_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("DOORCODE_PUBLIC_URL", public_url)
    module, name = application.split(":")
    built = getattr(__import__(module, fromlist=[name]), name)()
    assert built.state.runtime.settings.public_url == link
    built.state.runtime.close()


@pytest.mark.postgres
@pytest.mark.skipif(not api_processes.balances_connections(), reason="Linux's SO_REUSEPORT")
@pytest.mark.parametrize("shared", [False, True], ids=["another program", "another serve"])
def test_a_port_in_use_is_one_line_and_exit_code_1(environment, monkeypatch, postgres_url, shared):
    # Another serve's sockets allow sharing the port: without a check the second serve would
    # quietly take half its connections.
    monkeypatch.setenv("DOORCODE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_RUNNER", "worker")
    with socket.socket() as taken:
        if shared:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port))
    assert result.exit_code == 1, result.output
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output


def test_serve_keeps_an_idle_connection_open_longer_than_a_client_does():
    """The client closes first, so no request travels down a connection the server closes."""
    config = serving.server_config(lambda: None, Settings(), "127.0.0.1", 0)
    assert config.timeout_keep_alive > httpx.Limits().keepalive_expiry
    custom = serving.server_config(lambda: None, Settings(keep_alive_seconds=120), "h", 0)
    assert custom.timeout_keep_alive == 120
