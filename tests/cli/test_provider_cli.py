"""``doorcode provider`` and ``doorcode lock import`` against Seam's fake; bad input refused."""

import json

from tests.cli.conftest import cli, doorcode, terminal  # noqa: F401 - the fixtures

KEY_NEVER_PRINTED = "seam_doorcode_test_key"


def test_an_operator_connects_seam_at_a_hidden_prompt_imports_and_lists(
    doorcode,  # noqa: F811
    seam_peer,
    terminal,  # noqa: F811
):
    seam_peer.add_device("dev_front", "Seam front", online=False, battery_level=0.2)
    doorcode("org", "add", "acme")
    connected = doorcode(
        "provider",
        "connect",
        "seam",
        "--label",
        "Workspace",
        "--option",
        f"base_url={seam_peer.api_url}",
        input=f"{seam_peer.api_key}\n",
    )
    assert "connected seam account Workspace" in connected.output
    assert KEY_NEVER_PRINTED not in connected.output
    listed = doorcode("provider", "list", "--json").output
    assert KEY_NEVER_PRINTED not in listed
    assert json.loads(listed)[0]["credential_names"] == ["api_key"]
    imported = doorcode("lock", "import", "--account", "Workspace").output
    assert "Seam front" in imported
    assert "added" in imported
    again = doorcode("lock", "import", "--account", "Workspace").output
    assert "unchanged" in again
    locks = doorcode("lock", "list").output
    assert "offline, battery 20%" in locks


def test_a_bad_credential_pair_or_an_unknown_kind_exits_1_and_stores_nothing(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    bad = doorcode(
        "provider", "connect", "seam", "--label", "W", "--credential", "api_key", expect=1
    )
    assert "NAME=VALUE" in bad.output
    unknown = doorcode("provider", "connect", "zwave", "--label", "W", expect=1)
    assert "unknown kind" in unknown.output
    assert json.loads(doorcode("provider", "list", "--json").output) == []


def test_removing_an_account_with_locks_is_refused(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    doorcode("lock", "add", "Front door")
    refused = doorcode("provider", "remove", "Virtual locks", expect=1)
    assert "remove them first" in refused.output
    assert "unknown" not in doorcode("provider", "list").output
    assert doorcode("lock", "import", "--account", "Nowhere", expect=1).output.startswith("Error")


def test_a_seam_lock_added_by_hand_needs_a_connected_account(doorcode):  # noqa: F811
    doorcode("org", "add", "acme")
    refused = doorcode("lock", "add", "Door", "--provider", "seam", expect=1)
    assert "connect a seam account first" in refused.output
    doorcode("provider", "connect", "seam", "--label", "W", "--credential", "api_key=seam_k")
    doorcode("lock", "add", "Door", "--provider", "seam", "--account", "W", "--external-id", "d1")
    listed = json.loads(doorcode("lock", "list", "--json").output)
    assert [(lock["provider"], lock["external_id"]) for lock in listed] == [("seam", "d1")]
