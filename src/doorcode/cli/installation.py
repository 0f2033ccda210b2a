"""Which installation a command acts on, found the way an operator expects, never made by accident.

An installation is a data directory (the SQLite file, the generated secret key, the virtual
locks) or, with PostgreSQL, whatever ``DOORCODE_DATABASE_URL`` and ``DOORCODE_SECRET_KEY``
name. It is looked for in this order: ``DOORCODE_DATA_DIR``; the data directory that
``doorcode init``, ``serve`` or ``demo`` wrote into the user's config file
(``~/.config/doorcode/config.toml``, or under ``XDG_CONFIG_HOME``); ``./var`` when it holds one.
Only ``init``, ``serve``, ``demo`` and ``worker`` may create a new one; every other command run
where there is none says so and exits 1, instead of starting an empty database and a new key
that can read nothing.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from doorcode.config import Settings

__all__ = [
    "DEFAULT_DATA_DIR",
    "InstallationConfig",
    "NoInstallation",
    "UnusableDataDir",
    "config_file",
    "locate",
    "read_config",
    "write_config",
]

DEFAULT_DATA_DIR = Path("var")
logger = logging.getLogger(__name__)


class NoInstallation(Exception):
    """No installation where the settings point, and the command may not create one."""


class UnusableDataDir(NoInstallation):
    """The data directory cannot be made or written: a read-only file system, say."""


@dataclass(frozen=True, slots=True)
class InstallationConfig:
    """What the user's config file remembers: the data directory and the organisation."""

    data_dir: Path | None = None
    organisation: str | None = None


def config_file() -> Path:
    """The user's doorcode config file (click follows XDG_CONFIG_HOME on Linux)."""
    return Path(click.get_app_dir("doorcode")) / "config.toml"


def read_config() -> InstallationConfig:
    """The remembered installation, or nothing when there is no config file."""
    path = config_file()
    if not path.exists():
        return InstallationConfig()
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise NoInstallation(f"{path} is not valid TOML: {err}") from err
    data_dir = values.get("data_dir")
    organisation = values.get("organisation")
    return InstallationConfig(
        Path(data_dir) if isinstance(data_dir, str) and data_dir else None,
        organisation if isinstance(organisation, str) and organisation else None,
    )


def write_config(config: InstallationConfig) -> Path:
    """Remember ``config`` in the user's config file; returns where it was written."""
    path = config_file()
    lines = ["# Written by doorcode (init, serve, demo, worker, org use); safe to edit."]
    # A JSON string is a valid TOML basic string (the same escapes).
    if config.data_dir is not None:
        lines.append(f"data_dir = {json.dumps(str(config.data_dir))}")
    if config.organisation:
        lines.append(f"organisation = {json.dumps(config.organisation)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise NoInstallation(f"cannot write {path}: {reason}") from err
    return path


def locate(settings: Settings, *, create: bool) -> Settings:
    """Point ``settings`` at the installation to use; without ``create``, refuse a missing one."""
    remembered = read_config()
    if "data_dir" not in settings.model_fields_set:
        settings.data_dir = remembered.data_dir or DEFAULT_DATA_DIR
    settings.data_dir = settings.data_dir.absolute()
    if create and _sqlite_file(settings.resolved_database_url()) is None:
        _refuse_a_new_key_for_a_shared_database(settings)
    if create:
        _make_data_dir(settings.data_dir)
        if remembered.data_dir is None:
            _remember(InstallationConfig(settings.data_dir, remembered.organisation))
        return settings
    problem = missing_part(settings)
    if problem is not None:
        raise NoInstallation(
            f"no doorcode installation in {settings.data_dir} ({problem}). Run `doorcode init` "
            f"to create one there, or set DOORCODE_DATA_DIR to an existing one; `doorcode "
            f"init`, `serve` and `demo` remember theirs in {config_file()}"
        )
    return settings


def _remember(config: InstallationConfig) -> None:
    """Remember the installation for later commands, if the config file can be written.

    Remembering is a convenience for the next command typed; a service (a container with a
    read-only root, a unit running as a user without a home) is configured by its environment
    and must not fail to start over it.
    """
    try:
        write_config(config)
    except NoInstallation as err:
        logger.warning("%s; later commands need DOORCODE_DATA_DIR", err)


def _make_data_dir(data_dir: Path) -> None:
    """Create the data directory, or say why it cannot be, before anything is remembered:
    a path under /proc or through a file ended in a traceback after the config already
    pointed every later command at it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".doorcode-write-check"
        probe.touch()
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UnusableDataDir(f"cannot use {data_dir} as the data directory: {reason}") from err


def _refuse_a_new_key_for_a_shared_database(settings: Settings) -> None:
    """A server database is shared by machines: a key made up on one of them would encrypt
    codes the others cannot read. Its key is given (DOORCODE_SECRET_KEY) or already there."""
    from doorcode.config import KEY_FILE_NAME

    if settings.secret_key is None and not (settings.data_dir / KEY_FILE_NAME).exists():
        raise NoInstallation(
            "a PostgreSQL database needs its secret key: set DOORCODE_SECRET_KEY to the key "
            "every process of this installation uses (none is made up on this machine)"
        )


def missing_part(settings: Settings) -> str | None:
    """What an existing installation would have and this one lacks, or None."""
    database = _sqlite_file(settings.resolved_database_url())
    if database is not None and not database.exists():
        return f"no database {database}"
    from doorcode.config import KEY_FILE_NAME

    key_file = settings.data_dir / KEY_FILE_NAME
    if settings.secret_key is None and not key_file.exists():
        return f"no secret key {key_file}"
    return None


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url  # only when a command opens the database

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
