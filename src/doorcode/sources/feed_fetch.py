"""Fetching a calendar URL that a manager typed: bounded, and never into the private network.

A feed URL comes from a user, and the server fetches it, so it is a request the user makes
from inside the deployment. Three things keep that harmless:

* **Destinations.** ``feed_client`` connects only to public addresses: the address a name
  resolves to is checked at the moment of connecting (so a name cannot resolve to a public
  address when checked and to 127.0.0.1 when used), and loopback, private, link-local,
  shared, reserved and multicast addresses are refused, unless the operator allows them
  (``DOORCODE_FEED_ALLOW_PRIVATE=1``, for a PMS on the same network). Redirects are followed
  only on the same host. Environment proxies are not used: they would connect for us.
* **One answer for every failure to fetch.** A refused address, a closed port, a port that
  does not speak HTTP, a time-out: all read "could not fetch the calendar", so the stored
  outcome cannot be used to map which internal ports are open.
* **Bounds.** The whole fetch, redirects included, ends within ``FetchLimits.seconds`` plus
  at most one read time-out (a server sending a byte every few seconds is cut off), and a
  body over ``max_bytes`` or with more than ``max_events`` events is refused before anything
  parses it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

from doorcode import __version__

__all__ = [
    "COULD_NOT_FETCH",
    "LIMITS",
    "TIMEOUT",
    "Fetch",
    "FetchLimits",
    "FetchStatus",
    "feed_client",
    "fetch_calendar",
    "names_a_private_host",
]

COULD_NOT_FETCH = "could not fetch the calendar"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Per connect and per read; ``FetchLimits.seconds`` bounds the whole fetch."""
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_EVENT = re.compile(rb"^BEGIN:VEVENT", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How long a whole fetch may take, and how big a calendar may be."""

    seconds: float = 30.0
    max_bytes: int = 8 * 1024 * 1024
    max_events: int = 10_000
    max_redirects: int = 3


LIMITS = FetchLimits()

FetchStatus = typing.Literal["ok", "not_modified", "http_error", "unreachable", "too_large"]


@dataclass(frozen=True, slots=True)
class Fetch:
    """What one GET of a calendar gave: a status, the body, validators, and a safe message."""

    status: FetchStatus
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    message: str = ""


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Connects to the address a name resolves to only if that address is public."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve, vet, then connect to the vetted address (TLS still checks the name)."""
        address = host if self._allow_private else _public_address(host, port)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


def _public_address(host: str, port: int) -> str:
    """The first address of ``host``; refused if any address it has is not public."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise httpcore.ConnectError("the name does not resolve") from err
    addresses = [str(info[4][0]) for info in found]
    if not addresses or not all(_is_public(address) for address in addresses):
        raise httpcore.ConnectError("the destination is not a public address")
    return addresses[0]


def names_a_private_host(url: str) -> bool:
    """Whether the URL's host, as written, is ``localhost`` or a loopback or private address.

    Such a feed is refused at every fetch unless the operator allows private addresses, and
    the fetch's outcome does not say why; the one who typed the URL can be told at once,
    which reveals nothing about the network. A name that resolves privately is not caught.
    """
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not _is_public(host)
    except ValueError:
        return False


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that vets every address it connects to."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_PublicOnlyBackend(allow_private),
        )


def feed_client(*, allow_private: bool = False) -> httpx.Client:
    """The HTTP client every feed fetch goes through (poller, CLI and API alike)."""
    return httpx.Client(
        transport=_PublicOnlyTransport(allow_private),
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
    )


def fetch_calendar(
    client: httpx.Client,
    url: str,
    validators: dict[str, str],
    limits: FetchLimits = LIMITS,
    monotonic: Callable[[], float] = time.monotonic,
) -> Fetch:
    """GET the calendar within the limits; no message here ever quotes the URL (a secret)."""
    deadline = monotonic() + limits.seconds
    headers = {
        "User-Agent": f"doorcode/{__version__} (calendar sync)",
        "Accept": "text/calendar",
        **validators,
    }
    try:
        for _ in range(limits.max_redirects + 1):
            left = deadline - monotonic()
            if left <= 0:
                break
            timeout = _within(client.timeout, left)
            with client.stream(
                "GET", url, headers=headers, follow_redirects=False, timeout=timeout
            ) as response:
                if response.status_code not in _REDIRECTS:
                    return _answer(response, limits, deadline, monotonic)
                following = _same_host_redirect(url, response)
            if following is None:
                return Fetch("unreachable", message=COULD_NOT_FETCH)
            url = following
    except (httpx.HTTPError, httpx.InvalidURL):
        return Fetch("unreachable", message=COULD_NOT_FETCH)
    return Fetch("unreachable", message=COULD_NOT_FETCH)


def _within(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """The client's time-outs, none longer than the time the fetch has left."""
    return httpx.Timeout(
        min(timeout.read or left, left), connect=min(timeout.connect or left, left)
    )


def _same_host_redirect(url: str, response: httpx.Response) -> str | None:
    """Where a redirect leads, if it stays on the same host over HTTP(S); else None."""
    request = response.next_request
    if request is None:
        return None
    here, there = httpx.URL(url), request.url
    if there.scheme not in ("http", "https") or there.host != here.host:
        return None
    return str(there)


def _answer(
    response: httpx.Response, limits: FetchLimits, deadline: float, monotonic: Callable[[], float]
) -> Fetch:
    if response.status_code == 304:
        return Fetch("not_modified", message="not modified")
    if response.status_code != 200:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        return Fetch("http_error", message=message)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if monotonic() > deadline:
            return Fetch("unreachable", message=COULD_NOT_FETCH)
        if len(body) > limits.max_bytes:
            megabytes = limits.max_bytes // (1024 * 1024)
            return Fetch("too_large", message=f"the calendar is over {megabytes} MiB")
    if len(_EVENT.findall(body)) > limits.max_events:
        return Fetch("too_large", message=f"the calendar has over {limits.max_events} events")
    return Fetch(
        "ok", bytes(body), response.headers.get("ETag"), response.headers.get("Last-Modified")
    )
