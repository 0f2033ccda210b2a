"""``doorcode serve``: guidebook links name the address it serves, unless told otherwise."""

import pytest

from doorcode.cli import serving
from doorcode.notify.facts import guidebook_url
from tests.cli.test_api_processes import free_port


@pytest.fixture
def built(monkeypatch):
    """The applications ``serve`` handed to uvicorn, which serves none of them."""
    apps = []

    class Server:
        def __init__(self, config):
            apps.append(config.app)

        def run(self):
            pass

    monkeypatch.setattr(serving.uvicorn, "Server", Server)
    return apps


def guide_link_of(app) -> str:
    """The guidebook link the app writes (reservation page, guest messages)."""
    return guidebook_url(app.state.runtime.settings.public_url, "TOKEN")


def test_guidebook_links_follow_the_port_served(cli, built, monkeypatch):
    # The default named port 8000: under --port 9000 every guest's link led nowhere.
    monkeypatch.delenv("DOORCODE_PUBLIC_URL", raising=False)
    port = free_port()
    cli("serve", "--host", "127.0.0.1", "--port", str(port))
    assert guide_link_of(built[0]) == f"http://127.0.0.1:{port}/guide/TOKEN"


def test_an_explicit_public_url_wins_over_the_port_served(cli, built, monkeypatch):
    monkeypatch.setenv("DOORCODE_PUBLIC_URL", "https://stays.example")
    cli("serve", "--port", str(free_port()))
    assert guide_link_of(built[0]) == "https://stays.example/guide/TOKEN"


def test_listening_on_every_address_links_to_this_machine_and_says_to_set_one(
    cli, built, monkeypatch, caplog
):
    # 0.0.0.0 (a container's usual host) is no address a guest's browser can open.
    monkeypatch.delenv("DOORCODE_PUBLIC_URL", raising=False)
    port = free_port()
    cli("serve", "--host", "0.0.0.0", "--port", str(port))  # noqa: S104 (uvicorn is a fake)
    assert guide_link_of(built[0]) == f"http://127.0.0.1:{port}/guide/TOKEN"
    assert "DOORCODE_PUBLIC_URL is not set" in caplog.text


def test_every_address_is_probed_when_the_host_is_empty(cli, built, monkeypatch):
    # asyncio takes an empty host for every address; the probe refused it as a bad name.
    monkeypatch.setenv("DOORCODE_HOST", "")
    cli("serve", "--port", str(free_port()))
    assert len(built) == 1


def test_an_address_this_machine_lacks_is_refused_only_when_every_address_is(monkeypatch):
    """A ``::1 localhost`` line with IPv6 turned off: uvicorn serves on 127.0.0.1 alone."""
    port = free_port()
    real = serving.socket.getaddrinfo
    missing = ("192.0.2.1", port)  # TEST-NET-1: never this machine's
    here = real("127.0.0.1", port, type=serving.socket.SOCK_STREAM)[0]

    def two_addresses(*_args, **_kwargs):
        return [here, (here[0], here[1], here[2], "", missing)]

    monkeypatch.setattr(serving.socket, "getaddrinfo", two_addresses)
    serving._refuse_a_port_in_use("localhost", port)  # 127.0.0.1 is free: no refusal
    monkeypatch.setattr(serving.socket, "getaddrinfo", lambda *_a, **_k: [two_addresses()[1]])
    with pytest.raises(serving.InvalidRequest, match="Cannot assign requested address"):
        serving._refuse_a_port_in_use("localhost", port)
