"""Whose X-Forwarded-For is believed: nobody's by default, the named proxies' when set.

Driven through the ASGI application exactly as ``doorcode serve`` hands it to uvicorn (its
proxy-header middleware included), with the peer address a TCP connection would have.
"""

import anyio
import httpx

from doorcode.api.app import create_app
from doorcode.cli.serving import server_config
from doorcode.config import Settings

GUESSES = 20  # the guidebook's limit per address (tests/web/test_security.py)


def served(runtime, trusted_proxies: str):
    settings = Settings(trusted_proxies=trusted_proxies, data_dir=runtime.settings.data_dir)
    config = server_config(create_app(runtime), settings, "127.0.0.1", 8000)
    config.load()
    return config.loaded_app


def visit(app, peer: str, paths_and_forwarded: list[tuple[str, str | None]]) -> list[int]:
    """The status of each GET, sent from ``peer`` with its X-Forwarded-For (if any)."""

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://doorcode") as client:
            statuses = []
            for path, forwarded in paths_and_forwarded:
                headers = {"X-Forwarded-For": forwarded} if forwarded else {}
                statuses.append((await client.get(path, headers=headers)).status_code)
            return statuses

    return anyio.run(run)


def guesses(forwarded_for) -> list[tuple[str, str | None]]:
    return [(f"/guide/guess-{n:02d}-{'x' * 20}", forwarded_for(n)) for n in range(GUESSES)]


def test_by_default_a_forged_forwarded_for_does_not_dodge_the_guessing_limit(runtime, world):
    app = served(runtime, "")
    forged = guesses(lambda n: f"203.0.113.{n}")
    statuses = visit(app, "127.0.0.1", [*forged, (f"/guide/{world.stay_token}", "198.51.100.1")])
    assert statuses == [404] * GUESSES + [429]


def test_behind_a_named_proxy_each_forwarded_client_has_its_own_limit(runtime, world):
    app = served(runtime, "10.0.0.5, 127.0.0.1")
    guessed = guesses(lambda _n: "203.0.113.9")
    stay = f"/guide/{world.stay_token}"
    statuses = visit(app, "10.0.0.5", [*guessed, (stay, "203.0.113.9"), (stay, "198.51.100.1")])
    assert statuses == [404] * GUESSES + [429, 200]


def test_a_peer_that_is_not_the_named_proxy_cannot_forward_for_others(runtime, world):
    app = served(runtime, "10.0.0.5")
    forged = guesses(lambda n: f"203.0.113.{n}")
    statuses = visit(app, "192.0.2.7", [*forged, (f"/guide/{world.stay_token}", "198.51.100.1")])
    assert statuses == [404] * GUESSES + [429]
