"""Every way httpx can fail on the wire reaches the reconciler as ProviderUnavailable."""

import asyncio

import httpx
import pytest

from doorcode.locks.errors import ProviderUnavailable
from doorcode.locks.nuki.client import NukiClient
from doorcode.locks.ttlock.client import TtlockClient, TtlockCredentials

FAILURES = [
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
    httpx.ConnectError,
    httpx.ReadError,
    httpx.WriteError,
    httpx.CloseError,
    httpx.RemoteProtocolError,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
]


def failing(exception):
    def handler(request):
        raise exception("the wire broke", request=request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def ttlock_call(http, clock):
    credentials = TtlockCredentials("id", "secret", "user", "0" * 32)
    return TtlockClient(http, credentials, clock=clock).list_locks()


def nuki_call(http, clock):
    return NukiClient(http, "token").list_smartlocks()


@pytest.mark.parametrize("exception", FAILURES)
@pytest.mark.parametrize("call", [ttlock_call, nuki_call], ids=["ttlock", "nuki"])
def test_a_broken_wire_is_a_transient_provider_failure(exception, call, clock):
    async def go():
        async with failing(exception) as http:
            await call(http, clock)

    with pytest.raises(ProviderUnavailable) as raised:
        asyncio.run(go())
    assert isinstance(raised.value.__cause__, exception)


def test_every_transport_error_httpx_has_is_in_the_list():
    def subclasses(kind):
        for sub in kind.__subclasses__():
            yield sub
            yield from subclasses(sub)

    leaves = {kind for kind in subclasses(httpx.TransportError) if not kind.__subclasses__()}
    assert leaves <= set(FAILURES)
