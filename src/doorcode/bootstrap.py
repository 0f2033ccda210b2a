"""The composition root: the one place that wires real parts together.

Entry points build a ``Runtime`` once and ask it for units of work; tests build one with a
fake clock and seeded randomness instead (cf. cosmicpython's ``bootstrap.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from doorcode.config import Settings, secret_keys
from doorcode.domain.clock import Clock
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.database import create_database_engine, create_session_factory
from doorcode.store.migrate import upgrade
from doorcode.store.unit_of_work import CommitHook, UnitOfWork

__all__ = ["VIRTUAL_LOCKS_FILE", "Runtime", "bootstrap", "default_providers", "system_clock"]

VIRTUAL_LOCKS_FILE = "virtual-locks.json"


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The wired parts a process shares: database, cipher, clock, randomness, lock providers."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    cipher: CodeCipher
    clock: Clock
    rng: Random
    providers: ProviderRegistry
    commit_hooks: list[CommitHook] = field(default_factory=list)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work; use it in one ``with`` block."""
        return UnitOfWork(
            self.session_factory, self.cipher, self.clock, self.rng, self.commit_hooks
        )

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


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
    if migrate:
        upgrade(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        cipher=CodeCipher(secret_keys(settings)),
        clock=clock,
        rng=rng or secrets.SystemRandom(),
        providers=providers or default_providers(settings, clock),
    )


def default_providers(settings: Settings, clock: Clock) -> ProviderRegistry:
    """The back-ends this build ships: the virtual cloud, persisted in the data directory."""
    cloud = VirtualCloud(clock, path=settings.data_dir / VIRTUAL_LOCKS_FILE)
    return ProviderRegistry([VirtualLockProvider(cloud)])
