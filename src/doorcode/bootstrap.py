"""The composition root: the one place that wires real parts together.

Entry points build a ``Runtime`` once and ask it for units of work; tests build one with a
fake clock and seeded randomness instead (cf. cosmicpython's ``bootstrap.py``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from random import Random

from doorcode.config import Settings, secret_keys
from doorcode.domain.clock import Clock
from doorcode.locks.base import LockProvider
from doorcode.locks.registry import ProviderRegistry
from doorcode.runtime import Runtime
from doorcode.store import schema_head
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.database import create_database_engine, create_session_factory

__all__ = ["VIRTUAL_LOCKS_FILE", "bootstrap", "default_providers", "system_clock"]

VIRTUAL_LOCKS_FILE = "virtual-locks.json"


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    rng: Random | None = None,
    migrate: bool = True,
    providers: ProviderRegistry | None = None,
) -> Runtime:
    """Wire the real parts; codes come from the operating system's CSPRNG unless told otherwise.

    Tests pass their own ``providers`` (a fresh in-memory virtual cloud); by default the virtual
    cloud lives in ``DOORCODE_DATA_DIR/virtual-locks.json`` so that every doorcode process on
    the machine (``serve``, ``keypad enter``, ``lock sync``) sees the same simulated locks.
    """
    settings = settings or Settings()
    engine = create_database_engine(settings.resolved_database_url())
    cipher = CodeCipher(secret_keys(settings))
    if migrate and not schema_head.is_current(engine):
        from doorcode.store.migrate import upgrade  # Alembic loads only when there is work

        upgrade(engine, cipher)
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        cipher=cipher,
        clock=clock,
        rng=rng or secrets.SystemRandom(),
        providers=providers or default_providers(settings, clock),
    )


def default_providers(settings: Settings, clock: Clock) -> ProviderRegistry:
    """The back-ends this build ships: the virtual cloud, persisted in the data directory.

    The cloud is built when a command first reaches a lock; a listing never loads it.
    """

    def shared() -> list[LockProvider]:
        from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider

        cloud = VirtualCloud(clock, path=settings.data_dir / VIRTUAL_LOCKS_FILE)
        return [VirtualLockProvider(cloud)]

    return ProviderRegistry(shared)
