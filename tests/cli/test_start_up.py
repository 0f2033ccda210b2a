"""What the console entry point sets up before any command runs, for start-up's sake."""

import os

from doorcode.cli import main
from tests.cli.test_collector import run_command


def test_commands_skip_pydantics_plugin_search(cli, monkeypatch):
    monkeypatch.delenv(main.PYDANTIC_PLUGINS, raising=False)
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == "__all__"


def test_an_operators_own_plugin_setting_wins(cli, monkeypatch):
    monkeypatch.setenv(main.PYDANTIC_PLUGINS, "")
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == ""
