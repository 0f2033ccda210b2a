"""The doorcode process the kill test kills: one reconciler pass over every lock, then exit.

    SYNC_ONCE_KEY=... python -m tests.locks.zigbee2mqtt.sync_once DATABASE_URL DATA_DIR NOW

It is what ``doorcode lock sync`` does, on the test's database and at the test's instant, with
this build's real back-ends (zigbee2mqtt among them) and nothing simulated in doorcode itself.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.locks.registry import ProviderRegistry
from doorcode.sync.reconciler import Reconciler

KEY_ENV = "SYNC_ONCE_KEY"
"""The test's secret key (each test process makes its own)."""


def main(database_url: str, data_dir: str, now: str) -> None:
    instant = datetime.fromisoformat(now)
    settings = Settings(
        database_url=database_url, secret_key=os.environ[KEY_ENV], data_dir=Path(data_dir)
    )
    runtime = bootstrap(
        settings, clock=lambda: instant, migrate=False, providers=ProviderRegistry()
    )
    try:
        reconciler = Reconciler.from_runtime(runtime)
        asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    finally:
        runtime.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
