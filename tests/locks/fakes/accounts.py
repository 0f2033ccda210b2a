"""Adapters wired to the fake clouds in-process (httpx's ASGI transport: no socket, no thread).

For tests and benchmarks that run the reconciler against a real adapter: the provider is
built from a stored-style account, as the registry would, and shares the fake's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from doorcode.locks.base import LockProvider, ProviderAccount
from doorcode.locks.nuki import NukiProvider
from doorcode.locks.ttlock import TtlockProvider
from tests.locks.fakes import nuki, ttlock

BASE_URL = "http://cloud.test"


def ttlock_account(account_id: str = "acc_ttlock") -> ProviderAccount:
    """A TTLock account the fake accepts."""
    credentials = {
        "client_id": ttlock.CLIENT_ID,
        "client_secret": ttlock.CLIENT_SECRET,
        "username": ttlock.USERNAME,
        "password": "password",
    }
    return ProviderAccount(
        account_id, "org", "ttlock", "TTLock", credentials, {"base_url": BASE_URL}
    )


def nuki_account(account_id: str = "acc_nuki") -> ProviderAccount:
    """A Nuki account the fake accepts."""
    credentials = {"api_token": nuki.TOKEN}
    return ProviderAccount(account_id, "org", "nuki", "Nuki", credentials, {"base_url": BASE_URL})


def ttlock_provider(
    cloud: ttlock.TtlockCloud, clock: Callable[[], datetime], account_id: str = "acc_ttlock"
) -> LockProvider:
    """A TtlockProvider talking to ``cloud`` in-process."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=cloud.app()))
    return TtlockProvider.from_account(ttlock_account(account_id), http=http, clock=clock)


def nuki_provider(cloud: nuki.NukiCloud, clock: Callable[[], datetime]) -> LockProvider:
    """A NukiProvider talking to ``cloud`` in-process."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=cloud.app()))
    return NukiProvider.from_account(nuki_account(), http=http, clock=clock)
