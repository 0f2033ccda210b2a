"""Which ``LockProvider`` serves a lock: the one built for its provider account.

A provider is built per stored account (``ProviderAccount``) by the factory registered for
the account's kind, inside a ``ProviderSession`` that lends them the event loop's
``httpx.AsyncClient`` (kept by the registry, so its connections outlive one session) and
closes the providers at the end::

    async with registry.session(clock) as providers:
        provider = providers.for_account(account)      # built once per account
        await provider.list_codes(lock.external_id)

Adding a back-end means adding its class to ``BACKENDS``. A provider *instance*
handed to the registry serves every account of its kind: that is how the in-process virtual
cloud, one simulated cloud per deployment, stays shared by the reconciler and
``doorcode keypad enter``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType

import httpx

from doorcode.domain.clock import Clock
from doorcode.locks.base import LockProvider, ProviderAccount
from doorcode.locks.errors import ProviderNotConfigured
from doorcode.locks.links import AccountLinks
from doorcode.locks.nuki import NukiProvider
from doorcode.locks.seam import SeamProvider
from doorcode.locks.ttlock import TtlockProvider
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider
from doorcode.locks.zigbee2mqtt import Zigbee2MqttProvider
from doorcode.locks.zwave_js import ZwaveJsProvider

__all__ = ["BACKENDS", "HTTP_TIMEOUT", "ProviderRegistry", "ProviderSession"]

BACKENDS: dict[str, type[LockProvider]] = {
    VirtualLockProvider.kind: VirtualLockProvider,
    NukiProvider.kind: NukiProvider,
    SeamProvider.kind: SeamProvider,
    TtlockProvider.kind: TtlockProvider,
    ZwaveJsProvider.kind: ZwaveJsProvider,
    Zigbee2MqttProvider.kind: Zigbee2MqttProvider,
}
"""The back-ends this build can reach, by kind; each is built with its ``from_account``."""

HTTP_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
"""Lock clouds answer within seconds; a pass must not hang on one."""


class ProviderRegistry:
    """Shared provider instances by kind, and back-end classes that build one per account."""

    def __init__(
        self,
        providers: Iterable[LockProvider] = (),
        *,
        backends: Mapping[str, type[LockProvider]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._shared = {provider.kind: provider for provider in providers}
        self._backends = dict(BACKENDS if backends is None else backends)
        self._transport = transport
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self.links = AccountLinks()
        """Connections kept for the life of the process (zigbee2mqtt's MQTT link)."""

    def __repr__(self) -> str:
        return f"ProviderRegistry({sorted(self.kinds)})"

    def __contains__(self, kind: object) -> bool:
        return kind in self._shared or kind in self._backends

    def __iter__(self) -> Iterator[LockProvider]:
        return iter(self._shared.values())

    @property
    def kinds(self) -> list[str]:
        """Every kind of account this deployment can serve."""
        return sorted({*self._shared, *self._backends})

    def backend(self, kind: str) -> type[LockProvider]:
        """The class serving ``kind``; an unknown kind is not configured."""
        shared = self._shared.get(kind)
        if shared is not None:
            return type(shared)
        backend = self._backends.get(kind)
        if backend is None:
            raise ProviderNotConfigured(f"this deployment has no {kind!r} back-end")
        return backend

    def shared(self, kind: str) -> LockProvider:
        """The instance that serves every account of ``kind`` (the virtual cloud's provider)."""
        provider = self._shared.get(kind)
        if provider is None:
            raise ProviderNotConfigured(f"no shared {kind!r} provider in this deployment")
        return provider

    def session(self, clock: Clock) -> ProviderSession:
        """Providers for one piece of work (a batch of passes, an import), closed at its end."""
        return ProviderSession(
            self._shared, self._backends, self._http_client, clock, links=self.links
        )

    def close(self) -> None:
        """End the long-lived links; the process is done with its lock back-ends."""
        self.links.close()

    def _http_client(self) -> httpx.AsyncClient:
        """The running event loop's HTTP client, kept across sessions.

        A worker makes a session per lock pass: a client each would open a new connection
        (and TLS handshake) to the cloud for every pass. A client serves only the loop it was
        made on, so each loop gets its own; it lives as long as the loop.
        """
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                transport=self._transport, timeout=HTTP_TIMEOUT, verify=_tls()
            )
            self._clients[loop] = client
        return client

    @property
    def virtual_cloud(self) -> VirtualCloud | None:
        """The simulated cloud behind the ``virtual`` provider, when there is one."""
        provider = self._shared.get(VirtualLockProvider.kind)
        return provider.cloud if isinstance(provider, VirtualLockProvider) else None


class ProviderSession:
    """Builds each account's provider once and closes them all, with their HTTP client."""

    def __init__(
        self,
        shared: Mapping[str, LockProvider],
        backends: Mapping[str, type[LockProvider]],
        http: Callable[[], httpx.AsyncClient],
        clock: Clock,
        *,
        links: AccountLinks | None = None,
    ) -> None:
        self._shared = shared
        self._links = links if links is not None else AccountLinks()
        self._backends = backends
        self._http = http
        self._clock = clock
        self._built: dict[str, LockProvider] = {}

    async def __aenter__(self) -> ProviderSession:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    def for_account(self, account: ProviderAccount | None) -> LockProvider:
        """The provider of ``account``; no account, or an unknown kind, is not configured."""
        if account is None:
            raise ProviderNotConfigured(
                "the lock has no provider account; connect one with `doorcode provider connect`"
            )
        shared = self._shared.get(account.kind)
        if shared is not None:
            return shared
        built = self._built.get(account.account_id)
        if built is None:
            backend = self._backends.get(account.kind)
            if backend is None:
                raise ProviderNotConfigured(f"this deployment has no {account.kind!r} back-end")
            built = backend.build(account, http=self._http(), clock=self._clock, links=self._links)
            self._built[account.account_id] = built
        return built

    async def aclose(self) -> None:
        """Close every provider built here; the registry keeps the HTTP client they shared."""
        built, self._built = list(self._built.values()), {}
        for provider in built:
            await provider.aclose()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every session's client: loading the CA bundle costs about 0.1 s of
    CPU, and a session (so, before, a client) was opened for every pass."""
    return httpx.create_ssl_context()
