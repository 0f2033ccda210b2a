"""``doorcode serve --workers``: several API processes, and the keep-alive they all use."""

import httpx
import pytest
from typer.testing import CliRunner

from doorcode.cli import serving
from doorcode.cli.main import app
from doorcode.config import Settings
from tests.conftest import TEST_KEY


@pytest.fixture
def served(monkeypatch, tmp_path):
    """What ``serve`` handed to uvicorn instead of serving; no DOORCODE_* from outside."""
    for name in ("DATABASE_URL", "SECRET_KEY", "RUNNER", "ORGANISATION"):
        monkeypatch.delenv(f"DOORCODE_{name}", raising=False)
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(tmp_path / "data"))
    calls = []
    monkeypatch.setattr(
        serving.uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


def invoke(*args):
    return CliRunner().invoke(app, list(args))


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
    ((application,), options) = served[0]
    assert (options["workers"], options["factory"], options["port"]) == (3, True, 8123)
    module, name = application.split(":")
    built = getattr(__import__(module, fromlist=[name]), name)()
    assert built.state.runtime.settings.database_url == postgres_url
    built.state.runtime.close()


def test_serve_keeps_an_idle_connection_open_longer_than_a_client_does():
    """The client closes first, so no request travels down a connection the server closes."""
    config = serving.server_config(lambda: None, Settings(), "127.0.0.1", 0)
    assert config.timeout_keep_alive > httpx.Limits().keepalive_expiry
    custom = serving.server_config(lambda: None, Settings(keep_alive_seconds=120), "h", 0)
    assert custom.timeout_keep_alive == 120
