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
