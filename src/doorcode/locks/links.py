"""Connections that outlive one ``ProviderSession``: one per account, one set per process.

Most back-ends are asked over HTTP and keep nothing between passes. A local radio network is
different: zigbee2mqtt publishes what a lock says (a slot read, a keypad opening) once, to
whoever is subscribed at that moment, and a lock on batteries must not be asked again what it
already said. Such a back-end keeps a *link* per account: a connection that stays subscribed,
and what it has heard, for the life of the process. The registry owns the links, so every
session (a pass, an import, ``keypad enter``) reaches the same one; ``close`` at the end of
the process (``Runtime.close``) ends them::

    link = links.get(key, lambda: Zigbee2MqttLink.start(...), Zigbee2MqttLink)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

__all__ = ["AccountLink", "AccountLinks"]


class AccountLink(Protocol):
    """A long-lived connection to one account's back-end."""

    def close(self) -> None:
        """End the connection; called once, at the end of the process."""


LinkT = TypeVar("LinkT", bound=AccountLink)


class AccountLinks:
    """The process's links, by key (an account id and whatever settings shape the link)."""

    def __init__(self) -> None:
        self._links: dict[str, AccountLink] = {}
        self._lock = threading.Lock()

    def get(
        self,
        key: str,
        build: Callable[[], LinkT],
        kind: type[LinkT],
        fits: Callable[[LinkT], bool] = lambda link: True,
    ) -> LinkT:
        """The link for ``key``, built by ``build`` the first time it is asked for.

        A link that no longer ``fits`` (the account was reconnected with other settings) is
        ended and built again.
        """
        with self._lock:
            link = self._links.get(key)
            if not isinstance(link, kind) or not fits(link):
                if link is not None:
                    link.close()
                link = build()
                self._links[key] = link
            return link

    def find(self, key: str) -> AccountLink | None:
        """The link for ``key`` if one was built (scripts read its counters)."""
        with self._lock:
            return self._links.get(key)

    def close(self) -> None:
        """End every link."""
        with self._lock:
            links, self._links = list(self._links.values()), {}
        for link in links:
            link.close()
