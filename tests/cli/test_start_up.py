"""What the console entry point sets up before any command runs, for start-up's sake."""

import os
import sys

import pytest

from doorcode.cli import main


def run_command(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["doorcode", *args])
    with pytest.raises(SystemExit) as ended:
        main.run()
    return ended.value.code


def test_commands_skip_pydantics_plugin_search(cli, monkeypatch):
    monkeypatch.delenv(main.PYDANTIC_PLUGINS, raising=False)
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == "__all__"


def test_an_operators_own_plugin_setting_wins(cli, monkeypatch):
    monkeypatch.setenv(main.PYDANTIC_PLUGINS, "")
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == ""
