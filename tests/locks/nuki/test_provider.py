"""NukiProvider keeps the provider contract against the local Nuki Web API."""

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest

from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.base import CodeState, NewCode
from doorcode.locks.errors import CodeRefused, WebhookRefused
from doorcode.locks.nuki import NukiProvider, parse_nuki_webhook
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.tags import grant_id_from_tag, tag_for
from tests.locks.fakes import nuki as fake
from tests.locks.fakes.receiver import Receiver
from tests.locks.fakes.serving import serve

PIN = "482913"


def stay(clock, hours=26):
    start = clock() + timedelta(hours=1)
    return TimeWindow(start, start + timedelta(hours=hours))


def test_the_registry_builds_a_nuki_provider_per_account(account, clock):
    async def go():
        async with ProviderRegistry().session(clock) as session:
            return session.for_account(account)

    assert isinstance(asyncio.run(go()), NukiProvider)


def test_devices_carry_nukis_code_rules_and_health(cloud, provider, clock):
    cloud.add_smartlock("Front door", battery=64)
    [door] = provider(lambda p: p.list_devices())
    rules = door.capabilities.constraints
    assert door.capabilities.code_lengths == {6}
    assert rules.no_zeros
    assert "12" in rules.forbidden_prefixes
    assert (door.health.online, door.health.battery_percent) == (True, 64)
    assert door.health.last_contact_at == clock()


def test_a_created_code_is_found_by_listing_accepted_then_set(cloud, provider, clock):
    sid = cloud.add_smartlock("Front door")
    window = stay(clock)
    created = provider(lambda p: p.create_code(str(sid), NewCode(tag_for("grt_a1"), PIN, window)))
    assert created.code_id
    assert created.state is CodeState.ACCEPTED
    [listed] = provider(lambda p: p.list_codes(str(sid)))
    assert (listed.code_id, grant_id_from_tag(listed.name), listed.window) == (
        created.code_id,
        "grt_a1",
        window,
    )
    assert listed.state is CodeState.SET


def test_a_code_for_an_offline_smartlock_stays_accepted_until_it_is_back(cloud, provider, clock):
    sid = cloud.add_smartlock("Garden", online=False)
    provider(lambda p: p.create_code(str(sid), NewCode("x", PIN, stay(clock))))
    [waiting] = provider(lambda p: p.list_codes(str(sid)))
    assert waiting.state is CodeState.ACCEPTED
    cloud.set_online(sid, True)
    [confirmed] = provider(lambda p: p.list_codes(str(sid)))
    assert confirmed.state is CodeState.SET


def test_moving_a_window_keeps_the_code_and_its_limits(cloud, provider, clock):
    sid = cloud.add_smartlock("Front door")
    window = stay(clock)
    created = provider(lambda p: p.create_code(str(sid), NewCode("x", PIN, window)))
    later = TimeWindow(window.starts_at, window.ends_at + timedelta(days=2))
    provider(lambda p: p.update_code(str(sid), created.code_id, later))
    [moved] = provider(lambda p: p.list_codes(str(sid)))
    assert (moved.code_id, moved.code, moved.window) == (created.code_id, PIN, later)


def test_a_removed_code_leaves_the_keypad(cloud, provider, clock):
    sid = cloud.add_smartlock("Front door")
    created = provider(lambda p: p.create_code(str(sid), NewCode("x", PIN, stay(clock))))
    provider(lambda p: p.delete_code(str(sid), created.code_id))
    assert cloud.codes_on_keypad(sid) == []


def test_a_code_starting_with_12_is_refused_and_nothing_is_sent(cloud, provider, clock):
    sid = cloud.add_smartlock("Front door")
    with pytest.raises(CodeRefused):
        provider(lambda p: p.create_code(str(sid), NewCode("x", "123456", stay(clock))))
    assert cloud.smartlocks[sid].auths == {}


def test_access_events_come_once_each_with_the_code_reference(cloud, provider, clock):
    sid = cloud.add_smartlock("Front door")
    created = provider(lambda p: p.create_code(str(sid), NewCode("x", PIN, stay(clock, 2))))
    first = provider(lambda p: p.access_events(str(sid), None))
    assert first.events == ()
    clock.advance(hours=1, minutes=5)
    cloud.enter(sid, "999999")
    clock.advance(minutes=1)
    cloud.enter(sid, PIN)
    page = provider(lambda p: p.access_events(str(sid), first.cursor))
    refused, opened = page.events
    assert (refused.outcome, refused.reason) == (AccessOutcome.REFUSED, RefusalReason.UNKNOWN_CODE)
    assert (opened.outcome, opened.method, opened.code_ref) == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
        created.code_id,
    )
    assert provider(lambda p: p.access_events(str(sid), page.cursor)).events == ()


def register_webhook(base_url, url):
    answer = httpx.put(
        f"{base_url}/api/decentralWebhook",
        json={"webhookUrl": url, "webhookFeatures": ["DEVICE_LOGS"]},
        headers={"Authorization": f"Bearer {fake.TOKEN}"},
    )
    return answer.json()["secret"]


def test_a_signed_webhook_gives_the_same_event_as_the_log(cloud, provider, clock, base_url):
    receiver = Receiver()
    sid = cloud.add_smartlock("Front door")
    provider(lambda p: p.create_code(str(sid), NewCode("x", PIN, stay(clock, 2))))
    start = provider(lambda p: p.access_events(str(sid), None))
    with serve(receiver.app()) as url:
        secret = register_webhook(base_url, f"{url}/webhooks/nuki")
        clock.advance(hours=1, minutes=5)
        cloud.enter(sid, PIN)
    [delivery] = receiver.deliveries
    pushed = parse_nuki_webhook(delivery.headers, delivery.body, secret)
    assert pushed == list(provider(lambda p: p.access_events(str(sid), start.cursor)).events)


def signed(body, secret):
    return {"X-Nuki-Signature-SHA256": hmac.new(secret, body, hashlib.sha256).hexdigest()}


@pytest.mark.parametrize(
    "headers",
    [{}, signed(b"{}", b"another secret"), {"X-Nuki-Signature-SHA256": "00"}],
)
def test_a_webhook_without_the_right_signature_is_refused(headers):
    entry = {"id": "a1", "smartlockId": 1, "action": 1, "trigger": 255, "state": 0}
    entry["date"] = "2026-11-23T09:00:00.000Z"
    body = json.dumps({"feature": "DEVICE_LOGS", "smartlockLog": entry}).encode()
    assert len(parse_nuki_webhook(signed(body, b"the secret"), body, "the secret")) == 1
    with pytest.raises(WebhookRefused):
        parse_nuki_webhook(headers, body, "the secret")


def test_a_signed_webhook_that_cannot_be_read_is_refused():
    body = b'{"feature": "DEVICE_LOGS", "smartlockLog": {"id": "1"}}'
    with pytest.raises(WebhookRefused):
        parse_nuki_webhook(signed(body, b"the secret"), body, "the secret")


def test_a_webhook_of_another_feature_carries_no_access_event():
    body = b'{"feature": "DEVICE_STATUS", "smartlockId": 1}'
    assert parse_nuki_webhook(signed(body, b"s"), body, "s") == []


def test_one_listing_of_the_account_tells_a_pass_which_smartlocks_are_online(
    cloud, provider, clock
):
    doors = [str(cloud.add_smartlock(f"Door {n}")) for n in range(3)]

    async def list_every_door(p):
        for door in doors:
            await p.list_codes(door)
        clock.advance(minutes=2)
        await p.list_codes(doors[0])

    provider(list_every_door)
    assert cloud.calls["GET /smartlock"] == 2


def test_only_smartlocks_with_a_keypad_of_either_model_are_offered(cloud, provider):
    cloud.add_smartlock("Front door", keypad=1)
    cloud.add_smartlock("Back door", keypad=2)
    cloud.add_smartlock("Shed", keypad=None)
    assert sorted(d.name for d in provider(lambda p: p.list_devices())) == [
        "Back door",
        "Front door",
    ]
