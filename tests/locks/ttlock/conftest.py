"""The fake TTLock cloud on 127.0.0.1 and a client of it, on the test's clock."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from doorcode.locks.base import ProviderAccount
from doorcode.locks.ttlock import TtlockProvider
from doorcode.locks.ttlock.client import TtlockClient, TtlockCredentials, TtlockTokens
from tests.conftest import FakeClock
from tests.locks.fakes import ttlock as fake
from tests.locks.fakes.serving import provider_runner, serve


@pytest.fixture
def cloud(clock: FakeClock) -> fake.TtlockCloud:
    return fake.TtlockCloud(clock)


@pytest.fixture
def base_url(cloud: fake.TtlockCloud) -> Iterator[str]:
    with serve(cloud.app()) as url:
        yield url


@pytest.fixture
def credentials() -> TtlockCredentials:
    return TtlockCredentials(fake.CLIENT_ID, fake.CLIENT_SECRET, fake.USERNAME, fake.PASSWORD_MD5)


class Session:
    """Runs one coroutine at a time against the fake, keeping the OAuth tokens between runs."""

    def __init__(self, credentials: TtlockCredentials, clock: FakeClock, base_url: str) -> None:
        self.credentials, self.clock, self.base_url = credentials, clock, base_url
        self.tokens: TtlockTokens | None = None

    def __call__(self, action: Callable[[TtlockClient], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(timeout=5) as http:
                client = TtlockClient(
                    http,
                    self.credentials,
                    clock=self.clock,
                    base_url=self.base_url,
                    tokens=self.tokens,
                )
                try:
                    return await action(client)
                finally:
                    self.tokens = client.tokens

        return asyncio.run(go())


@pytest.fixture
def ttlock(credentials: TtlockCredentials, clock: FakeClock, base_url: str) -> Session:
    return Session(credentials, clock, base_url)


@pytest.fixture
def account(base_url: str) -> ProviderAccount:
    credentials = {
        "client_id": fake.CLIENT_ID,
        "client_secret": fake.CLIENT_SECRET,
        "username": fake.USERNAME,
        "password": "password",
    }
    return ProviderAccount(
        f"acc_{secrets.token_hex(4)}",
        "org_1",
        "ttlock",
        "Host's TTLock",
        credentials,
        {"base_url": base_url},
    )


@pytest.fixture
def provider(account: ProviderAccount, clock: FakeClock) -> Callable[..., Any]:
    return provider_runner(TtlockProvider, account, clock)
