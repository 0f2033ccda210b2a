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
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.database import create_database_engine, create_session_factory
from doorcode.store.migrate import upgrade
from doorcode.store.unit_of_work import CommitHook, UnitOfWork

__all__ = ["Runtime", "bootstrap", "system_clock"]


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """The wired parts a process shares: database, cipher, clock and randomness."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    cipher: CodeCipher
    clock: Clock
    rng: Random
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
) -> Runtime:
    """Wire the real parts; codes come from the operating system's CSPRNG unless told otherwise."""
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
    )
