"""Secrets asked at hidden prompts: with no terminal, one line says how to give them instead.

Run as a script runs them: the installed ``doorcode`` in its own session (so no controlling
terminal, wherever pytest runs) with standard input closed or piped. The test runner's own
prompt stand-in would never reach ``getpass``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOORCODE = Path(sys.executable).parent / "doorcode"


def run_without_terminal(tmp_path: Path, *args: str, piped: str | None = None):
    """``doorcode ARGS`` with no terminal; stdin empty, or ``piped`` when given."""
    environment = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    environment.pop("DOORCODE_USER_PASSWORD", None)
    return subprocess.run(
        [str(DOORCODE), *args],
        input=piped,
        stdin=subprocess.DEVNULL if piped is None else None,
        capture_output=True,
        text=True,
        env=environment,
        start_new_session=True,
        timeout=60,
    )


@pytest.mark.parametrize("piped", [None, "a long enough passphrase\n" * 2])
def test_user_create_without_a_terminal_names_the_password_variable(cli, tmp_path, piped):
    cli("org", "add", "acme")
    answer = run_without_terminal(tmp_path, "user", "create", "ada", piped=piped)
    assert answer.returncode == 1
    assert answer.stderr == (
        "Error: there is no terminal to ask for the password at: "
        "set DOORCODE_USER_PASSWORD to give it without a prompt\n"
    )
    assert answer.stdout == ""
    assert "ada" not in cli("user", "list").output


@pytest.mark.parametrize("piped", [None, "seam_some_key\n"])
def test_provider_connect_without_a_terminal_names_the_credential_option(cli, tmp_path, piped):
    cli("org", "add", "acme")
    answer = run_without_terminal(
        tmp_path, "provider", "connect", "seam", "--label", "X", piped=piped
    )
    assert answer.returncode == 1
    assert answer.stderr == (
        "Error: there is no terminal to ask for seam api_key at: give --credential api_key=VALUE\n"
    )
    assert answer.stdout == ""
    assert json.loads(cli("provider", "list", "--json").output) == []


def test_secrets_given_without_a_prompt_need_no_terminal(cli, tmp_path):
    cli("org", "add", "acme")
    connected = run_without_terminal(
        tmp_path, "provider", "connect", "seam", "--label", "X", "--credential", "api_key=k"
    )
    assert connected.returncode == 0, connected.stderr
    assert "connected seam account X" in connected.stdout
