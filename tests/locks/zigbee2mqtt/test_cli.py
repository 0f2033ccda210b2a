"""Pointing doorcode at zigbee2mqtt from the command line, as docs/locks.md says."""

from tests.cli.conftest import cli, doorcode  # noqa: F401 - the fixtures


def test_an_operator_connects_zigbee2mqtt_with_a_slot_override_and_imports(doorcode, bridge):  # noqa: F811
    bridge.add_lock("Front door", model="XY-LOCK-9")
    doorcode("org", "add", "acme")
    connected = doorcode(
        "provider",
        "connect",
        "zigbee2mqtt",
        "--label",
        "Home zigbee",
        "--option",
        f"host={bridge.host}",
        "--option",
        f"port={bridge.port}",
        "--option",
        f"base_topic={bridge.base_topic}",
        "--option",
        "slots=Front door=30, YRD256HA20BP=250",
    )
    assert "connected zigbee2mqtt account Home zigbee" in connected.output
    imported = doorcode("lock", "import", "--account", "Home zigbee").output
    assert "Front door" in imported
    assert "added" in imported
    assert "Hall sensor" not in imported
    shown = doorcode("lock", "slots", "Front door").output
    assert "4-30" in shown


def test_a_malformed_slots_option_is_refused_when_the_locks_are_imported(doorcode, bridge):  # noqa: F811
    bridge.add_lock("Front door")
    doorcode("org", "add", "acme")
    doorcode(
        "provider",
        "connect",
        "zigbee2mqtt",
        "--label",
        "Home zigbee",
        "--option",
        f"base_topic={bridge.base_topic}",
        "--option",
        "slots=Front door",
    )
    refused = doorcode("lock", "import", "--account", "Home zigbee", expect=1)
    assert "NAME=COUNT" in refused.output
