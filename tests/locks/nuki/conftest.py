"""The fake Nuki Web API on 127.0.0.1 and a client of it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from doorcode.locks.base import ProviderAccount
from doorcode.locks.nuki import NukiProvider
from doorcode.locks.nuki.client import NukiClient
from tests.conftest import FakeClock
from tests.locks.fakes import nuki as fake
from tests.locks.fakes.serving import provider_runner, serve


@pytest.fixture
def cloud(clock: FakeClock) -> fake.NukiCloud:
    return fake.NukiCloud(clock)


@pytest.fixture
def base_url(cloud: fake.NukiCloud) -> Iterator[str]:
    with serve(cloud.app()) as url:
        yield url


@pytest.fixture
def nuki(base_url: str) -> Callable[[Callable[[NukiClient], Awaitable[Any]]], Any]:
    """Runs one coroutine against the fake with a fresh client."""

    def run(action: Callable[[NukiClient], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(timeout=5) as http:
                return await action(NukiClient(http, fake.TOKEN, base_url=base_url))

        return asyncio.run(go())

    return run


@pytest.fixture
def account(base_url: str) -> ProviderAccount:
    return ProviderAccount(
        "acc_nuki",
        "org_1",
        "nuki",
        "Host's Nuki",
        {"api_token": fake.TOKEN},
        {"base_url": base_url},
    )


@pytest.fixture
def provider(account: ProviderAccount, clock: FakeClock) -> Callable[..., Any]:
    return provider_runner(NukiProvider, account, clock)
