"""The CLI as a user runs it: one command at a time, on a fresh install of its own."""

import pytest
from typer.testing import CliRunner

from doorcode.cli.main import app
from tests.conftest import TEST_KEY


@pytest.fixture
def cli(sqlite_url, tmp_path, monkeypatch):
    """``cli(*args, expect=0, input=None)``: run one command; its exit code is checked."""
    monkeypatch.setenv("DOORCODE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DOORCODE_ORGANISATION", raising=False)
    runner = CliRunner()

    def run(*args, expect=0, input=None):
        result = runner.invoke(app, list(args), input=input)
        assert result.exit_code == expect, result.output
        return result

    return run


@pytest.fixture
def doorcode(cli):
    """The CLI on an empty install; a module with a world of its own overrides this one."""
    return cli


@pytest.fixture
def terminal(monkeypatch):
    """A terminal to type secrets at, as an operator has; the runner's ``input`` is typed there."""
    monkeypatch.setattr("doorcode.cli.hidden_prompt.has_terminal", lambda: True)
