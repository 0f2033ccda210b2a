"""Finding the installation: from any folder, and never a new empty one by accident."""

import secrets
import socket

import pytest
from typer.testing import CliRunner

from doorcode.cli.main import app
from tests.conftest import TEST_KEY


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No DOORCODE_* settings, and a working directory with nothing in it."""
    for name in ("DATABASE_URL", "SECRET_KEY", "DATA_DIR", "ORGANISATION"):
        monkeypatch.delenv(f"DOORCODE_{name}", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return elsewhere


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_a_command_outside_any_installation_says_so_and_creates_nothing(bare_env):
    result = invoke("property", "list")
    assert result.exit_code == 1, result.output
    assert "no doorcode installation" in result.output
    assert "doorcode init" in result.output
    assert list(bare_env.iterdir()) == []


def test_an_empty_data_dir_is_not_turned_into_an_installation(bare_env, monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(empty))
    result = invoke("org", "list")
    assert result.exit_code == 1, result.output
    assert list(empty.iterdir()) == []


def test_init_remembers_the_installation_for_every_folder(
    bare_env, monkeypatch, tmp_path, private_config_dir
):
    home = tmp_path / "home"
    assert invoke("init", "--data-dir", str(home)).exit_code == 0
    assert (home / "secret.key").exists()
    assert str(home) in (private_config_dir / "config.toml").read_text()
    assert invoke("org", "add", "acme").exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    listed = invoke("org", "list")
    assert listed.exit_code == 0, listed.output
    assert "acme" in listed.output
    assert list(other.iterdir()) == []


def test_data_dir_from_the_environment_wins_over_the_config_file(bare_env, monkeypatch, tmp_path):
    assert invoke("init", "--data-dir", str(tmp_path / "first")).exit_code == 0
    invoke("org", "add", "first")
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(tmp_path / "second"))
    assert invoke("init").exit_code == 0
    invoke("org", "add", "second")
    listed = invoke("org", "list")
    assert "second" in listed.output
    assert "first" not in listed.output


def test_org_use_picks_the_organisation_for_later_commands(bare_env, tmp_path):
    invoke("init", "--data-dir", str(tmp_path / "home"))
    invoke("org", "add", "demo")
    added = invoke("org", "add", "acme")
    assert "doorcode org use acme" in added.output
    refused = invoke("property", "list")
    assert refused.exit_code == 1
    assert "doorcode org use SLUG" in refused.output
    assert invoke("org", "use", "acme").exit_code == 0
    created = invoke("property", "add", "Flat 1", "--zone", "Europe/Lisbon")
    assert created.exit_code == 0, created.output
    assert invoke("org", "use", "nobody").exit_code == 1


def test_demo_builds_its_world_in_var_here_and_remembers_it_for_other_folders(
    bare_env, monkeypatch, tmp_path, private_config_dir
):
    from doorcode.cli import serving

    monkeypatch.setattr(serving, "_refuse_a_port_in_use", lambda host, port: None)
    monkeypatch.setattr(serving, "_serve", lambda runtime, host, port: None)
    served = invoke("demo")
    assert served.exit_code == 0, served.output
    assert (bare_env / "var" / "doorcode.sqlite3").exists()
    assert str(bare_env / "var") in (private_config_dir / "config.toml").read_text()
    monkeypatch.chdir(tmp_path)
    assert "demo" in invoke("org", "list").output


def test_demo_never_plants_its_world_in_an_installation_remembered_from_elsewhere(
    bare_env, monkeypatch, tmp_path
):
    from doorcode.cli import serving

    real = tmp_path / "real"
    invoke("init", "--data-dir", str(real))
    invoke("org", "add", "acme")
    monkeypatch.setattr(serving, "_refuse_a_port_in_use", lambda host, port: None)
    monkeypatch.setattr(serving, "_serve", lambda runtime, host, port: None)
    assert invoke("demo").exit_code == 0
    listed = invoke("org", "list").output  # the remembered installation: still acme only
    assert "acme" in listed
    assert "demo" not in listed
    assert (bare_env / "var" / "doorcode.sqlite3").exists()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_no_process_makes_up_a_secret_key_for_a_postgresql_database(bare_env, monkeypatch, command):
    """A second machine without DOORCODE_SECRET_KEY would encrypt codes nobody else can read."""
    monkeypatch.setenv("DOORCODE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/nowhere")
    result = invoke(command)
    assert result.exit_code == 1, result.output
    assert "secret key" in result.output
    assert list(bare_env.iterdir()) == []


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_is_one_line_before_anything_starts(bare_env, monkeypatch, command):
    """uvicorn found the port taken only after the application (and its lock sync, feeds and
    messages) had started, then quit with its own log lines and exit code 3; the demo had
    already printed where to sign in, to a server that was not there."""
    started = []
    monkeypatch.setattr("doorcode.cli.serving.create_app", lambda *a, **k: started.append(a))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(command, "--host", "127.0.0.1", "--port", str(port))
    assert result.exit_code == 1, result.output
    assert f"Error: cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
    assert "API key" not in result.output
    assert started == []


@pytest.fixture
def no_data_dir(bare_env, monkeypatch, database_url):
    """A database and key from the environment, and no data directory anywhere (a SQLite file
    kept elsewhere stands for PostgreSQL on SQLite's run)."""
    monkeypatch.setenv("DOORCODE_DATABASE_URL", database_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    for command in (
        ("org", "add", "acme"),
        ("--org", "acme", "property", "add", "Flat 1", "--zone", "UTC", "--external-id", "f1"),
    ):
        assert invoke(*command).exit_code == 0
    return bare_env


def test_a_virtual_lock_added_without_a_data_dir_leaves_no_stray_var(no_data_dir):
    # The virtual cloud made ./var for its file in whatever folder the command ran from, and
    # a worker started from another folder would have seen other locks.
    added = invoke("--org", "acme", "lock", "add", "Front door", "--property", "f1")
    assert added.exit_code == 0, added.output
    assert list(no_data_dir.iterdir()) == []


def test_the_keypad_of_a_virtual_lock_without_a_data_dir_says_what_is_missing(no_data_dir):
    invoke("--org", "acme", "lock", "add", "Front door", "--property", "f1")
    typed = invoke("--org", "acme", "keypad", "enter", "Front door", "1234")
    assert typed.exit_code == 1, typed.output
    missing = no_data_dir / "var"
    assert f"Error: the virtual locks live in the data directory {missing}" in typed.output
    assert "doorcode init" in typed.output
    assert list(no_data_dir.iterdir()) == []


@pytest.mark.postgres
def test_a_worker_makes_and_remembers_the_data_dir_its_virtual_locks_live_in(
    bare_env, monkeypatch, postgres_url, tmp_path, private_config_dir
):
    from doorcode.cli import serving

    monkeypatch.setenv("DOORCODE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setattr(serving, "run_worker", lambda *_, **__: None)
    organisation = f"acme-{secrets.token_hex(4)}"  # the database is shared by the session
    assert invoke("org", "add", organisation).exit_code == 0
    assert invoke("--org", organisation, "lock", "add", "Front door").exit_code == 0
    assert invoke("worker").exit_code == 0
    assert (bare_env / "var" / "virtual-locks.json").exists()
    assert str(bare_env / "var") in (private_config_dir / "config.toml").read_text()
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)  # the same virtual cloud from any folder, as the worker's
    typed = invoke("--org", organisation, "keypad", "enter", "Front door", "1234")
    assert typed.output.startswith("REFUSED"), typed.output
    assert list(other.iterdir()) == []


def test_a_worker_without_a_usable_data_dir_or_config_file_still_works_the_real_locks(
    bare_env, monkeypatch, postgres_url, tmp_path, caplog
):
    """A container with a read-only root, or a unit run as a user without a home: the worker
    is configured by its environment, and the folder only ever held the simulated locks."""
    from doorcode.cli import serving

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DOORCODE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DOORCODE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("DOORCODE_DATA_DIR", str(blocker / "var"))  # cannot be made
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))  # cannot be written
    ran = []
    monkeypatch.setattr(serving, "run_worker", lambda *_, **__: ran.append(True))
    result = invoke("worker")
    assert result.exit_code == 0, result.output
    assert ran == [True]
    assert "virtual locks are not simulated by this worker" in caplog.text
    assert list(bare_env.iterdir()) == []


def test_serve_that_cannot_remember_its_data_dir_says_so_and_serves(
    bare_env, monkeypatch, tmp_path, caplog
):
    from doorcode.cli import serving

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))
    served = []
    monkeypatch.setattr(serving, "_serve", lambda *_: served.append(True))
    result = invoke("serve")
    assert result.exit_code == 0, result.output
    assert served == [True]
    assert "cannot write" in caplog.text
    assert "later commands need DOORCODE_DATA_DIR" in caplog.text


def test_init_that_cannot_write_its_config_file_is_one_line(bare_env, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))
    result = invoke("init")
    assert result.exit_code == 1, result.output
    assert "cannot write" in result.output
    assert "Traceback" not in result.output
