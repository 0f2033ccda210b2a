"""An operator connects a Z-Wave JS server and imports its locks; a bad URL is refused."""

import json

from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures


def test_an_operator_connects_z_wave_js_by_its_url_and_imports_its_locks(doorcode, zwave_peer):  # noqa: F811
    doorcode("org", "add", "acme")
    connected = doorcode(
        "provider", "connect", "zwave_js", "--label", "Home", "--option", f"url={zwave_peer.url}"
    )
    assert "connected zwave_js account Home" in connected.output
    imported = doorcode("lock", "import", "--account", "Home").output
    assert imported.count("added") == 3
    again = doorcode("lock", "import", "--account", "Home").output
    assert "added" not in again
    locks = json.loads(doorcode("lock", "list", "--json").output)
    assert sorted(lock["external_id"].split(".")[1] for lock in locks) == ["2", "3", "4"]


def test_a_z_wave_js_account_without_a_websocket_url_is_refused_and_nothing_stored(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    missing = doorcode("provider", "connect", "zwave_js", "--label", "Home", expect=1)
    assert "url=ws://" in missing.output
    wrong = doorcode(
        "provider",
        "connect",
        "zwave_js",
        "--label",
        "Home",
        "--option",
        "url=http://hub:3000",
        expect=1,
    )
    assert "websocket URL" in wrong.output
    assert json.loads(doorcode("provider", "list", "--json").output) == []
