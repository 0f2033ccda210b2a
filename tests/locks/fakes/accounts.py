"""The fake clouds wired to doorcode the way a real account is: connected, then imported.

Providers are built per account by the registry, as in production; the registry's HTTP
transport is httpx's ASGI transport on the fake (no socket, no thread), so whatever base URL
the account names, its requests reach the fake in-process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from doorcode.locks.base import LockProvider
from doorcode.locks.registry import ProviderRegistry
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller
from doorcode.services.lock_import import ImportReport, import_locks
from doorcode.services.provider_accounts import account_request, connect_account
from tests.locks.fakes import nuki, ttlock

BASE_URL = "http://cloud.test"
CREDENTIALS: Mapping[str, Mapping[str, str]] = {
    "ttlock": {
        "client_id": ttlock.CLIENT_ID,
        "client_secret": ttlock.CLIENT_SECRET,
        "username": ttlock.USERNAME,
        "password": "password",
    },
    "nuki": {"api_token": nuki.TOKEN},
}


def registry_on(
    cloud: Any,
    *,
    shared: tuple[LockProvider, ...] = (),
    backends: Mapping[str, type[LockProvider]] | None = None,
) -> ProviderRegistry:
    """A registry whose providers reach ``cloud`` (a fake's ``app()``) in-process."""
    transport = httpx.ASGITransport(app=cloud.app())
    return ProviderRegistry(shared, backends=backends, transport=transport)


def connect_and_import(
    runtime: Runtime,
    owner: Caller,
    kind: str,
    credentials: Mapping[str, str] | None = None,
    base_url: str = BASE_URL,
) -> ImportReport:
    """Connect the fake's account as an owner would, then import its devices as locks."""
    label = f"Our {kind}"
    secrets = CREDENTIALS[kind] if credentials is None else credentials
    request = account_request(runtime.providers, kind, label, secrets, {"base_url": base_url})
    connect_account(runtime.uow(), owner, request)
    return asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, label))
