"""Seam's offline access codes (igloohome-style locks) and its backup pool, as doorcode sees them.

Seam's fake ignores ``is_offline_access_code`` (it would store our own PIN), so the offline
codes are tested against recorded answers in the shape Seam documents; import and the backup
pool are tested against the fake.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from doorcode.domain.windows import TimeWindow
from doorcode.locks.errors import LockOffline, ProviderUnavailable
from doorcode.locks.seam import SeamProvider
from doorcode.locks.tags import offline_tag_for
from doorcode.sync.diff import split_by_owner

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
STAY = TimeWindow(
    datetime(2026, 12, 3, 15, 30, tzinfo=UTC), datetime(2026, 12, 5, 10, 15, tzinfo=UTC)
)
HOURS = TimeWindow(datetime(2026, 12, 3, 15, tzinfo=UTC), datetime(2026, 12, 5, 11, tzinfo=UTC))
NAME = offline_tag_for("grt_stay1")
PIN = "83920571"


def offline_code(code=PIN, window=HOURS, warnings=("igloo_algopin_must_be_used_within_24_hours",)):
    return {
        "access_code_id": "ac_offline",
        "device_id": "dev_igloo",
        "name": NAME,
        "code": code,
        "type": "time_bound",
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "status": "set",
        "is_offline_access_code": True,
        "errors": [],
        "warnings": [{"warning_code": w, "message": "m"} for w in warnings],
    }


class Seam:
    """Recorded answers per route; remembers what was asked."""

    def __init__(self, answers):
        self.answers = answers
        self.asked: list[tuple[str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.asked.append((request.url.path, body))
        status, answer = self.answers[request.url.path]
        return httpx.Response(status, json=answer)

    def issue(self, window=STAY):
        async def go():
            async with httpx.AsyncClient(transport=httpx.MockTransport(self)) as http:
                provider = SeamProvider(http, "seam_key", "https://connect.example", lambda: NOW)
                return await provider.issue_offline_code("dev_igloo", NAME, window)

        return asyncio.run(go())


def test_seams_offline_code_covers_the_stay_in_whole_hours_with_the_24_hour_rule():
    seam = Seam(
        {
            "/access_codes/list": (200, {"access_codes": []}),
            "/access_codes/create": (200, {"access_code": offline_code()}),
        }
    )
    issued = seam.issue()
    assert (issued.code, issued.window, issued.code_ref) == (PIN, HOURS, "ac_offline")
    assert any("within 24 hours" in rule for rule in issued.rules)
    assert any("whole hours" in rule for rule in issued.rules)
    path, body = seam.asked[-1]
    assert path == "/access_codes/create"
    assert body["is_offline_access_code"] is True
    assert (body["starts_at"], body["ends_at"]) == (
        HOURS.starts_at.isoformat(),
        HOURS.ends_at.isoformat(),
    )
    assert "code" not in body  # Seam computes it


def test_a_code_asked_for_before_a_crash_is_returned_not_created_again():
    seam = Seam({"/access_codes/list": (200, {"access_codes": [offline_code(warnings=())]})})
    issued = seam.issue()
    assert issued.code == PIN
    assert [path for path, _ in seam.asked] == ["/access_codes/list"]
    assert not any("within 24 hours" in rule for rule in issued.rules)


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param((timedelta(0), timedelta(days=-1)), id="shortened"),
        pytest.param((timedelta(hours=3), timedelta(0)), id="check-in-later"),
    ],
)
def test_a_code_asked_for_the_old_stay_is_not_handed_back_for_the_moved_one(moved):
    later_start, end_shift = moved
    stay = TimeWindow(STAY.starts_at + later_start, STAY.ends_at + end_shift)
    hours = TimeWindow(HOURS.starts_at + later_start, HOURS.ends_at + end_shift)
    seam = Seam(
        {
            "/access_codes/list": (200, {"access_codes": [offline_code(code="11223344")]}),
            "/access_codes/create": (200, {"access_code": offline_code(window=hours)}),
        }
    )
    issued = seam.issue(stay)
    assert (issued.code, issued.window) == (PIN, hours)  # not the old code's longer hours
    assert [path for path, _ in seam.asked] == ["/access_codes/list", "/access_codes/create"]


def test_a_code_seam_is_still_computing_is_tried_again_later():
    seam = Seam(
        {
            "/access_codes/list": (200, {"access_codes": []}),
            "/access_codes/create": (200, {"access_code": offline_code(code=None)}),
        }
    )
    with pytest.raises(ProviderUnavailable, match="not computed"):
        seam.issue()


def test_an_offline_device_refusal_is_mapped_and_never_quotes_a_code():
    error = {"error": {"type": "device_offline", "message": f"code {PIN} not set"}}
    seam = Seam(
        {
            "/access_codes/list": (200, {"access_codes": []}),
            "/access_codes/create": (400, error),
        }
    )
    with pytest.raises(LockOffline) as raised:
        seam.issue()
    assert PIN not in str(raised.value)


def test_an_offline_code_on_the_lock_is_neither_ours_to_program_nor_the_owners():
    seam = Seam({"/access_codes/list": (200, {"access_codes": [offline_code()]})})

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(seam)) as http:
            provider = SeamProvider(http, "seam_key", "https://connect.example", lambda: NOW)
            return await provider.list_codes("dev_igloo")

    assert split_by_owner(asyncio.run(go())) == ({}, [])


async def _call(peer, operation, *args):
    async with httpx.AsyncClient() as http:
        provider = SeamProvider(http, peer.api_key, peer.api_url, lambda: NOW)
        return await getattr(provider, operation)(*args)


def test_an_offline_only_igloohome_lock_is_imported_for_offline_codes(seam_peer):
    seam_peer.add_device(
        "dev_igloo",
        "Igloo keybox",
        code_constraints=[{"constraint_type": "cannot_specify_pin_code"}],
    )
    seam_peer.control(
        "/update_device",
        {
            "device_id": "dev_igloo",
            "can_program_offline_access_codes": True,
            "can_program_online_access_codes": False,
        },
    )
    [device] = asyncio.run(_call(seam_peer, "list_devices"))
    assert device.external_id == "dev_igloo"
    assert not device.capabilities.online
    assert device.capabilities.offline_codes


def test_codes_of_seams_backup_pool_are_not_listed_as_the_owners(seam_peer):
    seam_peer.add_device("dev_front", "Front door")
    body = {
        "device_id": "dev_front",
        "name": "doorcode grt_a1",
        "code": "4821",
        "starts_at": (NOW + timedelta(hours=1)).isoformat(),
        "ends_at": (NOW + timedelta(days=1)).isoformat(),
        "use_backup_access_code_pool": True,
    }
    headers = {"Authorization": f"Bearer {seam_peer.api_key}"}
    created = httpx.post(f"{seam_peer.api_url}/access_codes/create", json=body, headers=headers)
    assert created.status_code == 200, created.text
    assert any(code.get("is_backup") for code in seam_peer.codes())
    listed = asyncio.run(_call(seam_peer, "list_codes", "dev_front"))
    assert [code.name for code in listed] == ["doorcode grt_a1"]
