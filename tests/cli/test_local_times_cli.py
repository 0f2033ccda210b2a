"""The CLI shows instants on the property's clock, with its zone, as the dashboard does: an
operator in Tokyo reads 15:00 JST, not 06:00 UTC, wherever a time belongs to a property."""

from datetime import UTC, datetime, timedelta

import pytest

# The CLI runs on the process's own clock: stays are days ahead of today, never pinned.
DAY_1 = (datetime.now(UTC) + timedelta(days=10)).date()
DAY_3 = DAY_1 + timedelta(days=2)


@pytest.fixture
def doorcode(cli):
    def run(*args, expect=0):
        return cli(*args, expect=expect).output

    return run


@pytest.fixture
def tokyo(doorcode):
    doorcode("org", "add", "acme")
    doorcode("property", "add", "Shibuya loft", "--zone", "Asia/Tokyo", "--external-id", "loft")
    doorcode("property", "add", "Porto flat", "--zone", "Europe/Lisbon", "--external-id", "porto")
    doorcode("lock", "add", "Loft door", "--property", "loft", "--offline-codes")
    doorcode(
        "reservation", "add", "--property", "loft", "--check-in", str(DAY_1),
        "--check-out", str(DAY_3), "--guest", "Aiko",
    )  # fmt: skip


def test_the_audit_log_names_its_subjects_on_their_propertys_clock(doorcode, tokyo):
    shown = doorcode("events")
    assert "JST" in shown
    assert "UTC" not in shown
    assert "Aiko · Shibuya loft" in shown  # the reservation and its grant, named


def test_lock_list_and_lock_sync_read_the_locks_clock(doorcode, tokyo):
    synced = doorcode("lock", "sync")
    assert "JST" in synced
    assert "UTC" not in synced
    listed = doorcode("lock", "list")
    assert "seen" in listed
    assert "JST" in listed
    assert "UTC" not in listed


def test_offline_windows_read_the_key_groups_clock(doorcode, tokyo):
    doorcode("offline", "group", "add", "loft", "--lock", "Loft door")
    issued = doorcode(
        "offline", "issue", "--lock-group", "loft",
        "--from", f"{DAY_1}T06:00+00:00", "--to", f"{DAY_3}T02:00+00:00",
    )  # fmt: skip
    assert f"{DAY_1} 15:00 JST" in issued
    assert "UTC" not in issued
    assert "JST" in doorcode("offline", "group", "list")
    code = issued.split("code:", 1)[1].split()[0]
    checked = doorcode(
        "offline", "check", code, "--lock-group", "loft", "--at", f"{DAY_1}T07:00+00:00"
    )
    assert f"window:  {DAY_1} 15:00 JST" in checked
    assert f"at {DAY_1} 16:00 JST: opens" in checked
    assert "UTC" not in checked
    doorcode("offline", "block", code, "--lock-group", "loft")
    blocks = doorcode("offline", "blocks", "--lock-group", "loft")
    assert "JST" in blocks
    assert "UTC" not in blocks


def test_keys_and_users_read_the_organisations_one_clock(doorcode, monkeypatch):
    """What belongs to no property reads the properties' common zone, as the audit page does;
    with properties in several zones it stays in UTC, and says so."""
    doorcode("org", "add", "acme")
    doorcode("property", "add", "Shibuya loft", "--zone", "Asia/Tokyo")
    doorcode("apikey", "create", "pms", "--role", "manager")
    monkeypatch.setenv("DOORCODE_USER_PASSWORD", "a long and unusual passphrase")
    doorcode("user", "create", "aiko", "--role", "owner")
    for listing in (("apikey", "list"), ("user", "list")):
        shown = doorcode(*listing)
        assert "JST" in shown
        assert "UTC" not in shown
    doorcode("property", "add", "Porto flat", "--zone", "Europe/Lisbon")
    assert "UTC" in doorcode("apikey", "list")
