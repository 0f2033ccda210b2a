"""Configuration from the environment (``DOORCODE_*``), and the secret key it implies.

Every setting has a default that works for one host on one machine: a SQLite file and a key
file under ``DOORCODE_DATA_DIR``. Production sets ``DOORCODE_DATABASE_URL`` to PostgreSQL and
``DOORCODE_SECRET_KEY`` from its secret store.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from doorcode.domain.reservations import MAX_STAY_NIGHTS

__all__ = ["ENV_PREFIX", "Runner", "Settings", "SettingsError", "load_settings", "secret_keys"]

ENV_PREFIX = "DOORCODE_"
"""Every setting is read from the environment variable of its name with this prefix."""

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"


class Runner(enum.StrEnum):
    """Who reconciles the locks."""

    EMBEDDED = "embedded"
    """``doorcode serve`` does, in-process (the default: one machine, SQLite or PostgreSQL)."""
    WORKER = "worker"
    """``doorcode worker`` processes do, on PostgreSQL; ``serve`` only enqueues their jobs."""


DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")
"""What DOORCODE_DATABASE_URL may start with, before its ``://``: SQLite through Python's own
sqlite3 module (pysqlite), PostgreSQL through psycopg 3, the one driver doorcode ships (a bare
``postgresql://`` or ``postgres://`` gets it). Any other driver, an async one above all
(``postgresql+asyncpg``, ``sqlite+aiosqlite``), would pass and then die importing its module or
awaiting in doorcode's synchronous sessions, with a traceback."""

_DRIVER_FORM = re.compile(r"[A-Za-z0-9_+]+")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The levels both Python's logging and uvicorn take by name."""


class Settings(BaseSettings):
    """What an operator can set through ``DOORCODE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    keep_alive_seconds: int = Field(default=65, ge=1, le=3600)
    """How long ``serve`` keeps an idle HTTP connection open. Longer than the idle timeout of
    the client or proxy in front (60 s at AWS's load balancers, nginx's upstream keep-alive
    below that), so the client always closes first: a server that closes a connection just as
    a request travels down it leaves that request unanswered. Uvicorn's own default is 5 s."""
    trusted_proxies: str = ""
    """Comma-separated addresses (or networks) of the reverse proxies whose
    ``X-Forwarded-For`` is believed. Empty, the default: none is, and the client address is
    the peer's, so a forged header cannot dodge the guidebook and sign-in limits."""
    organisation: str = ""
    runner: Runner = Runner.EMBEDDED
    sweep_interval: int = Field(default=300, ge=10)
    """Seconds between two full re-checks of every lock."""
    max_stay_nights: int = Field(default=MAX_STAY_NIGHTS, ge=1, le=3660)
    """The longest stay accepted from any source; a longer one is refused (422)."""
    change_watch_interval: float = Field(default=1.0, gt=0, le=60)
    """Seconds between two looks for changes other processes committed (embedded runner)."""
    alert_before_hours: float = Field(default=24, ge=0)
    """How long before a grant starts a missing code raises an alert."""
    sync_concurrency: int = Field(default=8, ge=1, le=256)
    """How many locks one process works on at once."""
    # Calendar feeds: seconds between polls of a feed (each poll jittered by ±10%), and how
    # far ahead a feed's bookings are recorded.
    feed_interval: int = Field(default=600, ge=60)
    feed_horizon_days: int = Field(default=365, ge=1)
    feed_concurrency: int = Field(default=4, ge=1, le=64)
    """How many calendar feeds one process fetches at once."""
    feed_allow_private: bool = False
    """Whether feed URLs may lead to loopback or private addresses (a PMS on this network)."""

    # What the locks report (access events, health): how often each lock is asked, how long
    # events and the battery's history are kept, and when a battery is too low.
    access_poll_seconds: float = Field(default=60, ge=1)
    access_quiet_poll_seconds: float = Field(default=900, ge=0)
    """How often a lock with no code in use within the hour is asked (0: every pass): a quiet
    flat's door has little to tell, and 10,000 locks asked every minute is a cloud's quota."""
    access_retention_days: int = Field(default=396, ge=1)
    """About 13 months: a year of stays and the same season the year before."""
    battery_alert_percent: int = Field(default=25, ge=0, le=100)
    refusals_alert_count: int = Field(default=3, ge=1)
    """Refused attempts at one lock within a quarter of an hour, during a stay, that alert."""

    # Guest messages (see README, "Guest messages"); a channel with no settings is not used.
    public_url: str = "http://127.0.0.1:8000"
    message_poll_seconds: float = Field(default=15.0, ge=1)
    """At 0 the host-notice pass would follow itself without a pause, holding a core."""
    console_messages: bool = False
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_from: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr | None = None
    twilio_from: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str = ""
    whatsapp_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"

    # The dashboard's sessions: ended after this long without a request, and this long after
    # sign-in whatever happens.
    session_idle_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=30 * 24)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        """SQLite or PostgreSQL through their supported drivers only; the refusal quotes the
        driver given but never the rest of the URL, which may hold a password."""
        driver, separator, _ = url.partition("://")
        if not url or (separator and driver in DATABASE_DRIVERS):
            return url
        given = f", not {driver}" if separator and _DRIVER_FORM.fullmatch(driver) else ""
        raise ValueError(
            "doorcode supports SQLite through pysqlite (sqlite:///PATH) and PostgreSQL through "
            f"psycopg (postgresql://USER@HOST/DATABASE or postgresql+psycopg://...){given}"
        )

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, keys: SecretStr | None) -> SecretStr | None:
        """Every comma-separated key is a Fernet key, checked here rather than at the first
        encryption, whose error is a traceback; the refusal never quotes a key."""
        if keys is None:
            return None
        for key in keys.get_secret_value().split(","):
            try:
                Fernet(key.strip().encode())
            except ValueError:
                raise ValueError(
                    "each comma-separated key must be 32 url-safe base64-encoded bytes, as "
                    "Fernet.generate_key() makes them"
                ) from None
        return keys

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        """A level by name, in any case; logging would refuse anything else only at ``serve``."""
        if level.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}")
        return level.upper()

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'doorcode.sqlite3').as_posix()}"


class SettingsError(ValueError):
    """A ``DOORCODE_*`` variable the operator set to something doorcode cannot use."""


def load_settings(factory: Callable[[], Settings] = Settings) -> Settings:
    """The settings from the environment, or ``SettingsError`` naming each bad variable.

    pydantic's own message is a traceback's worth of text and quotes the value given, which
    may be a password; this names the variable and the rule only.
    """
    try:
        return factory()
    except ValidationError as err:
        problems = [
            f"{ENV_PREFIX}{'_'.join(str(part) for part in error['loc']).upper()}: "
            + error["msg"].removeprefix("Value error, ")
            for error in err.errors(include_input=False, include_url=False)
        ]
        raise SettingsError("; ".join(problems)) from None


def secret_keys(settings: Settings) -> list[str]:
    """The Fernet keys, newest first: from the environment, or a key file made on first run.

    ``DOORCODE_SECRET_KEY`` may list several comma-separated keys so an operator can rotate:
    the first encrypts, all of them decrypt.
    """
    if settings.secret_key is not None:
        return [key.strip() for key in settings.secret_key.get_secret_value().split(",")]
    key_file = settings.data_dir / KEY_FILE_NAME
    if not key_file.exists():
        _create_key_file(key_file)
    return [key_file.read_text().strip()]


def _create_key_file(key_file: Path) -> None:
    """Write a new key unless another process just did; never a half-written file.

    The key goes to a private temporary file first and is then hard-linked into place: the
    link is atomic and fails when a key is already there, so an API and a worker started
    together agree on one key instead of one crashing or reading an empty file.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".secret-key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            return
    finally:
        os.unlink(temporary)
    logger.warning(
        "DOORCODE_SECRET_KEY is not set: generated a new key in %s. Back it up; without it "
        "the stored codes and provider secrets cannot be read.",
        key_file,
    )
