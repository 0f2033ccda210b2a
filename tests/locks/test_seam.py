"""The Seam adapter against Seam's own fake, and recorded answers for what the fake cannot do."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessMethod, AccessOutcome
from doorcode.locks.base import CodeState, NewCode
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderAuthFailed,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
    WebhookRefused,
)
from doorcode.locks.seam import SeamProvider, parse_seam_webhook
from doorcode.locks.tags import tag_for

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = TimeWindow(NOW + timedelta(hours=3), NOW + timedelta(days=2))


def run(coroutine):
    return asyncio.run(coroutine)


async def call(peer, operation, *args, api_key=None):
    async with httpx.AsyncClient() as http:
        provider = SeamProvider(http, api_key or peer.api_key, peer.api_url, lambda: NOW)
        return await getattr(provider, operation)(*args)


def recorded(status, body, headers=None):
    """A provider whose every call gets one recorded answer."""

    def answer(request):
        if isinstance(body, Exception):
            raise body
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers or {})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return SeamProvider(http, "seam_key", "https://connect.example", lambda: NOW)


def front_door(peer, **properties):
    defaults = {
        "online": True,
        "battery_level": 0.8,
        "supported_code_lengths": [4, 6],
        "max_active_codes_supported": 20,
        "code_constraints": [
            {"constraint_type": "no_zeros"},
            {"constraint_type": "cannot_start_with_12"},
        ],
    }
    peer.add_device("dev_front", "Front door", **(defaults | properties))


def test_devices_come_with_the_capabilities_and_health_seam_reports(seam_peer):
    front_door(seam_peer)
    [device] = run(call(seam_peer, "list_devices"))
    assert (device.external_id, device.name) == ("dev_front", "Front door")
    capabilities = device.capabilities
    assert capabilities.code_lengths == frozenset({4, 6})
    assert capabilities.max_codes == 20
    assert capabilities.constraints.no_zeros
    assert capabilities.constraints.forbidden_prefixes == frozenset({"12"})
    assert capabilities.native_scheduling
    assert (device.health.online, device.health.battery_percent) == (True, 80)


def test_a_device_that_cannot_take_a_chosen_pin_is_not_offered(seam_peer):
    front_door(seam_peer)
    seam_peer.add_device(
        "dev_algo", "Padlock", code_constraints=[{"constraint_type": "cannot_specify_pin_code"}]
    )
    assert [d.external_id for d in run(call(seam_peer, "list_devices"))] == ["dev_front"]


def test_a_created_code_is_accepted_until_the_device_confirms_it(seam_peer):
    front_door(seam_peer)
    created = run(
        call(seam_peer, "create_code", "dev_front", NewCode(tag_for("grt_a1"), "4821", WINDOW))
    )
    assert created.state is CodeState.ACCEPTED
    assert created.window == WINDOW
    seam_peer.confirm_all()
    [listed] = run(call(seam_peer, "list_codes", "dev_front"))
    assert (listed.code_id, listed.state, listed.code) == (created.code_id, CodeState.SET, "4821")


def test_codes_are_listed_per_device_although_the_fake_returns_them_all(seam_peer):
    front_door(seam_peer)
    seam_peer.add_device("dev_back", "Back door")
    run(call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_a1", "4821", WINDOW)))
    run(call(seam_peer, "create_code", "dev_back", NewCode("doorcode grt_b2", "5932", WINDOW)))
    assert [c.name for c in run(call(seam_peer, "list_codes", "dev_back"))] == ["doorcode grt_b2"]


def test_a_window_moves_in_place_and_a_deleted_code_is_gone(seam_peer):
    front_door(seam_peer)
    created = run(
        call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_a1", "4821", WINDOW))
    )
    later = TimeWindow(WINDOW.starts_at + timedelta(hours=1), WINDOW.ends_at + timedelta(days=1))
    moved = run(call(seam_peer, "update_code", "dev_front", created.code_id, later))
    assert (moved.code_id, moved.window, moved.code) == (created.code_id, later, "4821")
    run(call(seam_peer, "delete_code", "dev_front", created.code_id))
    assert run(call(seam_peer, "list_codes", "dev_front")) == []
    with pytest.raises(CodeNotFound):
        run(call(seam_peer, "delete_code", "dev_front", created.code_id))


def test_a_pin_the_lock_holds_is_a_duplicate_and_the_error_never_repeats_it(seam_peer):
    front_door(seam_peer)
    run(call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_a1", "4821", WINDOW)))
    with pytest.raises(DuplicateCode) as refused:
        run(call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_b2", "4821", WINDOW)))
    assert "4821" not in str(refused.value)


def test_an_unknown_device_a_refused_key_and_an_outage_are_told_apart(seam_peer):
    front_door(seam_peer)
    with pytest.raises(UnknownDevice):
        run(call(seam_peer, "create_code", "dev_nowhere", NewCode("doorcode grt_a1", "4821")))
    with pytest.raises(ProviderAuthFailed):
        run(call(seam_peer, "list_devices", api_key="seam_wrong_key"))
    seam_peer.control("/outage")
    try:
        with pytest.raises(ProviderUnavailable):
            run(call(seam_peer, "list_devices"))
    finally:
        seam_peer.control("/recover")


def test_a_code_seam_could_not_set_reads_as_failed_with_its_reason(seam_peer):
    front_door(seam_peer)
    created = run(
        call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_a1", "4821", WINDOW))
    )
    seam_peer.control(
        "/update_access_code",
        {
            "access_code_id": created.code_id,
            "status": "unset",
            "errors": [{"error_code": "failed_to_set_on_device", "message": "no"}],
        },
    )
    [listed] = run(call(seam_peer, "list_codes", "dev_front"))
    assert (listed.state, listed.error) == (CodeState.FAILED, "failed_to_set_on_device")


def test_keypad_openings_come_once_each_since_the_cursor(seam_peer):
    front_door(seam_peer)
    created = run(
        call(seam_peer, "create_code", "dev_front", NewCode("doorcode grt_a1", "4821", WINDOW))
    )
    opened_at = NOW - timedelta(hours=1)
    seam_peer.control(
        "/add_event",
        {
            "event_type": "lock.unlocked",
            "device_id": "dev_front",
            "access_code_id": created.code_id,
            "method": "keycode",
            "occurred_at": opened_at.isoformat().replace("+00:00", "Z"),
        },
    )
    page = run(call(seam_peer, "access_events", "dev_front", None))
    [event] = page.events
    assert (event.outcome, event.method, event.code_ref) == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
        created.code_id,
    )
    assert event.occurred_at == opened_at
    again = run(call(seam_peer, "access_events", "dev_front", page.cursor))
    assert again.events == ()
    assert again.cursor == page.cursor


def test_health_reports_an_offline_device(seam_peer):
    front_door(seam_peer)
    seam_peer.control("/update_device", {"device_id": "dev_front", "properties": {"online": False}})
    health = run(call(seam_peer, "health", "dev_front"))
    assert (health.online, health.battery_percent) == (False, 80)


# -- what the fake cannot produce: recorded answers ----------------------------------------------


def test_a_429_waits_as_long_as_retry_after_says():
    provider = recorded(429, {"error": {"type": "rate_limited"}}, {"Retry-After": "42"})
    with pytest.raises(RateLimited) as limited:
        run(provider.list_codes("dev_front"))
    assert limited.value.retry_after == timedelta(seconds=42)


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (400, "device_offline", LockOffline),
        (400, "max_access_codes_reached", NoSpaceLeft),
        (400, "august_device_slots_full", NoSpaceLeft),
        (400, "invalid_input", CodeRefused),
        (403, "forbidden", ProviderAuthFailed),
        (502, "", ProviderUnavailable),
    ],
)
def test_each_refusal_seam_documents_is_its_own_error(status, kind, error):
    provider = recorded(status, {"error": {"type": kind, "message": "code 4821 refused"}})
    with pytest.raises(error) as raised:
        run(provider.create_code("dev_front", NewCode("doorcode grt_a1", "4821", WINDOW)))
    assert "4821" not in str(raised.value)


def test_a_timeout_and_a_non_json_answer_are_unavailable():
    with pytest.raises(ProviderUnavailable):
        run(recorded(200, httpx.ReadTimeout("slow")).list_devices())
    with pytest.raises(ProviderUnavailable):
        run(recorded(200, b"<html>maintenance</html>").list_devices())


# -- webhooks ------------------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"seam webhook secret").decode()


def signed(body: bytes, at: datetime, secret: str = SECRET) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    stamp = str(int(at.timestamp()))
    digest = hmac.new(key, f"msg_1.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "svix-id": "msg_1",
        "svix-timestamp": stamp,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }


UNLOCKED = json.dumps(
    {
        "event_id": "evt_1",
        "event_type": "lock.unlocked",
        "device_id": "dev_front",
        "access_code_id": "ac_1",
        "method": "keycode",
        "occurred_at": "2026-12-01T11:58:00.000Z",
    }
).encode()


def test_a_signed_webhook_gives_its_access_event():
    [event] = parse_seam_webhook(signed(UNLOCKED, NOW), UNLOCKED, SECRET, now=NOW)
    assert (event.event_id, event.device_id, event.code_ref) == ("evt_1", "dev_front", "ac_1")


def test_a_webhook_with_a_wrong_signature_or_an_old_timestamp_is_refused():
    with pytest.raises(WebhookRefused):
        parse_seam_webhook(signed(UNLOCKED, NOW, "whsec_" + "A" * 24), UNLOCKED, SECRET, now=NOW)
    with pytest.raises(WebhookRefused):
        parse_seam_webhook(signed(UNLOCKED, NOW - timedelta(hours=1)), UNLOCKED, SECRET, now=NOW)
    tampered = UNLOCKED.replace(b"ac_1", b"ac_2")
    with pytest.raises(WebhookRefused):
        parse_seam_webhook(signed(UNLOCKED, NOW), tampered, SECRET, now=NOW)


def test_a_webhook_about_something_else_gives_no_event():
    body = json.dumps({"event_id": "e", "event_type": "access_code.set", "device_id": "d"}).encode()
    assert parse_seam_webhook(signed(body, NOW), body, SECRET, now=NOW) == []
