"""Which ``LockProvider`` serves a lock: the one built for its provider account.

A provider is built per stored account (``ProviderAccount``) by the factory registered for
the account's kind, inside a ``ProviderSession`` that lends them one ``httpx.AsyncClient`` and
closes everything at the end::

    async with registry.session(clock) as providers:
        provider = providers.for_account(account)      # built once per account
        await provider.list_codes(lock.external_id)

Adding a back-end means adding its class to ``BACKENDS``. A provider *instance*
handed to the registry serves every account of its kind: that is how the in-process virtual
cloud, one simulated cloud per deployment, stays shared by the reconciler and
``doorcode keypad enter``.
"""

from __future__ import annotations

import functools
import importlib
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from doorcode.domain.clock import Clock
from doorcode.locks.base import LockProvider, ProviderAccount
from doorcode.locks.errors import ProviderNotConfigured
from doorcode.locks.links import AccountLinks

if TYPE_CHECKING:  # asyncio, httpx and the vendor modules load when a provider is built
    import asyncio
    import ssl

    import httpx

    from doorcode.locks.virtual import VirtualCloud

__all__ = ["BACKENDS", "HTTP_TIMEOUT_SECONDS", "Backends", "ProviderRegistry", "ProviderSession"]


class Backends(Mapping[str, type[LockProvider]]):
    """Back-end classes by kind, each imported the first time it is asked for.

    A CLI listing reads the kinds without paying for httpx and four vendor clients
    (bench/cli_startup.py); a pass that builds a provider imports its module then.
    """

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)  # kind -> "module:Class"

    def __getitem__(self, kind: str) -> type[LockProvider]:
        module, _, name = self._modules[kind].partition(":")
        backend: type[LockProvider] = getattr(importlib.import_module(module), name)
        return backend

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


BACKENDS = Backends(
    {
        "virtual": "doorcode.locks.virtual:VirtualLockProvider",
        "nuki": "doorcode.locks.nuki:NukiProvider",
        "seam": "doorcode.locks.seam:SeamProvider",
        "ttlock": "doorcode.locks.ttlock:TtlockProvider",
        "zwave_js": "doorcode.locks.zwave_js:ZwaveJsProvider",
        "zigbee2mqtt": "doorcode.locks.zigbee2mqtt:Zigbee2MqttProvider",
    }
)
"""The back-ends this build can reach, by kind; each is built with its ``from_account``."""

HTTP_TIMEOUT_SECONDS = (20.0, 5.0)
"""Lock clouds answer within seconds (connecting within 5); a pass must not hang on one."""


class ProviderRegistry:
    """Shared provider instances by kind, and back-end classes that build one per account."""

    def __init__(
        self,
        providers: Iterable[LockProvider] | Callable[[], Iterable[LockProvider]] = (),
        *,
        backends: Mapping[str, type[LockProvider]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``providers`` may be a function that builds them: called at first use, so that a
        command that never reaches a lock does not load the virtual cloud's file."""
        self._make_shared = providers if callable(providers) else (lambda: providers)
        self._built_shared: dict[str, LockProvider] | None = None
        self._building = threading.Lock()  # one virtual cloud per process, even if raced
        self._backends: Mapping[str, type[LockProvider]] = (
            BACKENDS if backends is None else dict(backends)
        )
        self._transport = transport
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self.links = AccountLinks()
        """Connections kept for the life of the process (zigbee2mqtt's MQTT link)."""

    def __repr__(self) -> str:
        return f"ProviderRegistry({sorted(self.kinds)})"

    @property
    def _shared(self) -> dict[str, LockProvider]:
        with self._building:
            if self._built_shared is None:
                built = {provider.kind: provider for provider in self._make_shared()}
                self._built_shared = built
            return self._built_shared

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
        import asyncio  # not at start-up: a CLI listing never reaches a lock

        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            total, connect = HTTP_TIMEOUT_SECONDS
            timeout = httpx.Timeout(total, connect=connect)
            client = httpx.AsyncClient(transport=self._transport, timeout=timeout, verify=_tls())
            self._clients[loop] = client
        return client

    @property
    def virtual_cloud(self) -> VirtualCloud | None:
        """The simulated cloud behind the ``virtual`` provider, when there is one."""
        from doorcode.locks.virtual import VirtualLockProvider

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
    CPU, and a session is opened for every pass."""
    import httpx

    return httpx.create_ssl_context()
