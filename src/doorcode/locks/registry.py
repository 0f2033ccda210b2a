"""Which ``LockProvider`` serves a lock: by the name stored in ``locks.provider``.

Built once in ``bootstrap.py`` and shared, so the reconciler and ``doorcode keypad enter`` see
the same virtual cloud. Adding a back-end means registering its instance here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from doorcode.locks.base import LockProvider
from doorcode.locks.errors import UnknownDevice
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider

__all__ = ["ProviderRegistry"]


class ProviderRegistry:
    """Provider instances by name."""

    def __init__(self, providers: Iterable[LockProvider]) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def __repr__(self) -> str:
        return f"ProviderRegistry({sorted(self._providers)})"

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def __iter__(self) -> Iterator[LockProvider]:
        return iter(self._providers.values())

    def get(self, name: str) -> LockProvider:
        """The provider called ``name``; an unknown one is a ``ProviderError`` like any other.

        A lock recorded with a back-end this deployment does not have (yet) fails its sync
        with a clear ``last_error`` instead of stopping the sweep.
        """
        provider = self._providers.get(name)
        if provider is None:
            raise UnknownDevice(f"no lock provider {name!r} is configured")
        return provider

    @property
    def virtual_cloud(self) -> VirtualCloud | None:
        """The simulated cloud behind the ``virtual`` provider, when there is one."""
        provider = self._providers.get(VirtualLockProvider.name)
        return provider.cloud if isinstance(provider, VirtualLockProvider) else None
