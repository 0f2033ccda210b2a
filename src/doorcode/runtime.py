"""What a doorcode process shares once wired: database, cipher, clock, randomness, providers.

Every layer that runs work (services' callers, the reconciler, the message loop, the pollers)
takes a ``Runtime``; only ``bootstrap.py`` builds one from the settings, so importing this
module pulls in no wiring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING

from doorcode.config import Settings
from doorcode.domain.clock import Clock
from doorcode.locks.registry import ProviderRegistry
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.unit_of_work import CommitHook, UnitOfWork

if TYPE_CHECKING:  # only store/ works with SQLAlchemy; a runtime merely carries its parts
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Runtime"]


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
            self.session_factory,
            self.cipher,
            self.clock,
            self.rng,
            self.commit_hooks,
            max_stay_nights=self.settings.max_stay_nights,
        )

    def close(self) -> None:
        """Release database connections and the lock back-ends' long-lived links."""
        self.providers.close()
        self.engine.dispose()
