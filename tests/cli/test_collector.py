"""What the console entry point sets up for start-up's sake, and what a long run undoes.

A command starts with the cyclic collector paused; one that keeps running resumes it. A server
left without it would grow with every reference cycle it makes (asyncio's futures and
tracebacks make many) until the machine ran out of memory. Pydantic's plugin search is
skipped unless the operator asked for plugins.
"""

import gc
import os
import sys

import pytest

from doorcode.cli import main, serving


@pytest.fixture(autouse=True)
def collector_restored():
    """Whatever a test does to the collector, the next test finds it as it was."""
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def run_command(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["doorcode", *args])
    with pytest.raises(SystemExit) as ended:
        main.run()
    return ended.value.code


def test_a_short_command_runs_without_the_cyclic_collector(cli, monkeypatch):
    gc.enable()
    assert run_command(monkeypatch, "--version") == 0
    assert not gc.isenabled()


def test_serve_collects_cycles_again_before_it_serves(cli, monkeypatch):
    seen = []
    monkeypatch.setattr(serving, "_serve", lambda *_: seen.append(gc.isenabled()))
    assert run_command(monkeypatch, "serve") == 0
    assert seen == [True]


def test_a_worker_collects_cycles_again_before_it_takes_jobs(cli, monkeypatch):
    seen = []
    monkeypatch.setattr(serving, "is_postgres", lambda _url: True)
    monkeypatch.setattr(serving, "install_virtual_locks", lambda _runtime: 0)
    monkeypatch.setattr(serving, "run_worker", lambda *_, **__: seen.append(gc.isenabled()))
    assert run_command(monkeypatch, "init") == 0
    assert run_command(monkeypatch, "worker") == 0
    assert seen == [True]


def test_commands_skip_pydantics_plugin_search(cli, monkeypatch):
    monkeypatch.delenv(main.PYDANTIC_PLUGINS, raising=False)
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == "__all__"


def test_an_operators_own_plugin_setting_wins(cli, monkeypatch):
    monkeypatch.setenv(main.PYDANTIC_PLUGINS, "")
    assert run_command(monkeypatch, "--version") == 0
    assert os.environ[main.PYDANTIC_PLUGINS] == ""
