"""The settings: the database URL is one doorcode can use; the secret key is taken from the
environment, or made once on first run and kept private."""

import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from cryptography.fernet import Fernet

from doorcode.config import KEY_FILE_NAME, Settings, SettingsError, load_settings, secret_keys


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://doorcode:hunter2@db/doorcode",
        "postgresql+psycopg_async://doorcode:hunter2@db/doorcode",
        "postgresql+pg8000://doorcode:hunter2@db/doorcode",
        "postgresql+psycopg2://doorcode:hunter2@db/doorcode",
        "postgres+psycopg://doorcode:hunter2@db/doorcode",
        "sqlite+aiosqlite:///var/doorcode.sqlite3",
        "mysql://doorcode:hunter2@db/doorcode",
        "postgresql:doorcode:hunter2@db/doorcode",
    ],
)
def test_a_database_url_with_a_driver_doorcode_lacks_is_refused_naming_the_supported_ones(url):
    with pytest.raises(SettingsError) as refused:
        load_settings(lambda: Settings(database_url=url))
    message = str(refused.value)
    assert message.startswith("DOORCODE_DATABASE_URL: ")
    assert "pysqlite (sqlite:///PATH)" in message
    assert "psycopg (postgresql://USER@HOST/DATABASE or postgresql+psycopg://...)" in message
    assert "hunter2" not in message


def test_the_refusal_names_the_driver_given():
    with pytest.raises(SettingsError, match=r", not postgresql\+asyncpg$"):
        load_settings(lambda: Settings(database_url="postgresql+asyncpg://db/doorcode"))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/doorcode.sqlite3",
        "sqlite+pysqlite:///var/doorcode.sqlite3",
        "sqlite://",
        "postgresql://doorcode@db/doorcode",
        "postgres://doorcode@db/doorcode",
        "postgresql+psycopg://doorcode@db/doorcode",
    ],
)
def test_a_database_url_doorcode_can_use_is_kept(url):
    assert Settings(database_url=url).resolved_database_url() == url


def test_without_a_key_in_the_environment_one_is_made_kept_private_and_announced(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path / "data", secret_key=None)
    with caplog.at_level(logging.WARNING, logger="doorcode"):
        [key] = secret_keys(settings)
    Fernet(key.encode())
    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "DOORCODE_SECRET_KEY is not set" in caplog.text
    assert key not in caplog.text
    assert secret_keys(settings) == [key]
    assert [path.name for path in key_file.parent.iterdir()] == [KEY_FILE_NAME]


def test_processes_starting_together_agree_on_one_key(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key=None)
    start = Barrier(8)

    def first_run(_: int) -> list[str]:
        start.wait()
        return secret_keys(settings)

    with ThreadPoolExecutor(8) as pool:
        keys = {tuple(found) for found in pool.map(first_run, range(8))}
    assert len(keys) == 1
    assert [path.name for path in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_several_keys_in_the_environment_are_read_newest_first(tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, secret_key=f"{new}, {old}")
    assert secret_keys(settings) == [new, old]
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_a_postgres_url_is_taken_for_postgresql_where_a_command_needs_it():
    """``postgres://`` passes the settings check, so the PostgreSQL-only paths (``worker``,
    ``DOORCODE_RUNNER=worker``) must know it too: they refused it as not PostgreSQL."""
    from doorcode.store.database import is_postgres

    assert is_postgres("postgres://doorcode@db/doorcode")
    assert is_postgres("postgresql+psycopg://doorcode@db/doorcode")
    assert not is_postgres("sqlite:///var/doorcode.sqlite3")
