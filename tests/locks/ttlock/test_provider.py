"""TtlockProvider keeps the provider contract against the local TTLock cloud."""

import asyncio
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.base import CodeState, NewCode
from doorcode.locks.errors import LockOffline, WebhookRefused
from doorcode.locks.registry import ProviderRegistry
from doorcode.locks.tags import grant_id_from_tag, tag_for
from doorcode.locks.ttlock import TtlockProvider, parse_ttlock_webhook
from tests.locks.fakes.receiver import Receiver
from tests.locks.fakes.serving import serve

PIN = "482913"
TOKEN = "callback-token-3f9a"


def stay(clock, hours=26):
    start = clock() + timedelta(hours=1)
    return TimeWindow(start, start + timedelta(hours=hours))


def test_the_registry_builds_a_ttlock_provider_per_account(account, clock):
    async def go():
        async with ProviderRegistry().session(clock) as session:
            return session.for_account(account)

    assert isinstance(asyncio.run(go()), TtlockProvider)


def test_devices_report_capabilities_and_health_from_the_lock_list(cloud, provider):
    cloud.add_lock("Front door", battery=64)
    cloud.add_lock("Cabin", has_gateway=False, battery=12)
    front, cabin = provider(lambda p: p.list_devices())
    assert (front.name, front.capabilities.online, front.capabilities.max_codes) == (
        "Front door",
        True,
        250,
    )
    assert front.capabilities.native_scheduling
    assert (front.health.online, front.health.battery_percent) == (True, 64)
    assert (cabin.capabilities.online, cabin.capabilities.offline_codes) == (False, True)
    assert (cabin.health.online, cabin.health.battery_percent) == (False, 12)


def test_re_importing_reports_the_same_devices(cloud, provider):
    cloud.add_lock("Front door")
    assert provider(lambda p: p.list_devices()) == provider(lambda p: p.list_devices())


def test_a_code_goes_on_moves_and_comes_off_the_lock(cloud, provider, clock):
    lock_id = cloud.add_lock("Front door")
    device, window = str(lock_id), stay(clock)
    created = provider(lambda p: p.create_code(device, NewCode(tag_for("grt_a1"), PIN, window)))
    assert created.state is CodeState.SET
    [listed] = provider(lambda p: p.list_codes(device))
    assert (grant_id_from_tag(listed.name), listed.window, listed.code) == ("grt_a1", window, PIN)
    later = TimeWindow(window.starts_at, window.ends_at + timedelta(days=1))
    moved = provider(lambda p: p.update_code(device, created.code_id, later))
    assert (moved.name, moved.window) == (listed.name, later)
    [on_lock] = cloud.codes_on_lock(lock_id)
    assert on_lock.ends_at == later.ends_at
    provider(lambda p: p.delete_code(device, created.code_id))
    assert cloud.codes_on_lock(lock_id) == []


def test_a_lock_without_a_gateway_is_offline_for_codes_and_gets_the_vendor_offline_code(
    cloud, provider, clock
):
    lock_id = cloud.add_lock("Cabin", has_gateway=False)
    window = TimeWindow(clock() + timedelta(minutes=30), clock() + timedelta(hours=50, minutes=1))
    with pytest.raises(LockOffline):
        provider(lambda p: p.create_code(str(lock_id), NewCode("x", PIN, window)))
    issued = provider(lambda p: p.issue_offline_code(str(lock_id), "Guest", window))
    assert issued.window.starts_at <= window.starts_at
    assert issued.window.ends_at >= window.ends_at
    assert issued.window.starts_at.minute == issued.window.ends_at.minute == 0
    assert any("24 hours" in rule for rule in issued.rules)
    assert issued.code not in repr(issued)
    clock.advance(hours=1)
    assert cloud.enter(lock_id, issued.code)


def test_health_says_battery_and_whether_a_gateway_reaches_the_lock(cloud, provider):
    lock_id = cloud.add_lock("Cabin", has_gateway=False, battery=9)
    health = provider(lambda p: p.health(str(lock_id)))
    assert (health.online, health.battery_percent, health.last_contact_at) == (False, 9, None)


def test_access_events_come_once_each_with_the_code_tag_and_never_the_pin(cloud, provider, clock):
    lock_id = cloud.add_lock("Front door")
    device, window = str(lock_id), stay(clock, hours=2)
    provider(lambda p: p.create_code(device, NewCode(tag_for("grt_a1"), PIN, window)))
    first = provider(lambda p: p.access_events(device, None))
    assert first.events == ()
    clock.advance(hours=1, minutes=5)
    cloud.enter(lock_id, "999999")
    clock.advance(minutes=1)
    cloud.enter(lock_id, PIN)
    page = provider(lambda p: p.access_events(device, first.cursor))
    refused, opened = page.events
    assert (refused.outcome, refused.reason, refused.code_ref) == (
        AccessOutcome.REFUSED,
        RefusalReason.UNKNOWN_CODE,
        None,
    )
    assert (opened.outcome, opened.method, opened.code_ref) == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
        tag_for("grt_a1"),
    )
    assert PIN not in repr(page)
    again = provider(lambda p: p.access_events(device, page.cursor))
    assert again.events == ()
    clock.advance(hours=2)
    cloud.enter(lock_id, PIN)
    [late] = provider(lambda p: p.access_events(device, page.cursor)).events
    assert (late.outcome, late.reason) == (AccessOutcome.REFUSED, RefusalReason.OUTSIDE_WINDOW)


def test_records_of_a_gateway_less_lock_count_when_an_app_uploads_them(cloud, provider, clock):
    lock_id = cloud.add_lock("Cabin", has_gateway=False)
    start = provider(lambda p: p.access_events(str(lock_id), None))
    clock.advance(minutes=5)
    cloud.enter(lock_id, "999999")
    assert provider(lambda p: p.access_events(str(lock_id), start.cursor)).events == ()
    clock.advance(hours=3)
    cloud.sync_records(lock_id)
    [event] = provider(lambda p: p.access_events(str(lock_id), start.cursor)).events
    assert event.outcome is AccessOutcome.REFUSED


def test_the_callback_delivers_the_same_events_as_polling(cloud, provider, clock):
    receiver = Receiver()
    lock_id = cloud.add_lock("Front door")
    device, window = str(lock_id), stay(clock, hours=2)
    provider(lambda p: p.create_code(device, NewCode(tag_for("grt_a1"), PIN, window)))
    start = provider(lambda p: p.access_events(device, None))
    with serve(receiver.app()) as url:
        cloud.callback_url = f"{url}/webhooks/ttlock/{TOKEN}"
        clock.advance(hours=1, minutes=5)
        cloud.enter(lock_id, PIN)
    [delivery] = receiver.deliveries
    assert delivery.path.endswith(TOKEN)
    pushed = parse_ttlock_webhook(delivery.headers, delivery.body, TOKEN, presented_token=TOKEN)
    polled = provider(lambda p: p.access_events(device, start.cursor)).events
    assert pushed == list(polled)
    assert pushed[0].code_ref == tag_for("grt_a1")
    assert PIN.encode() in delivery.body  # TTLock sends the PIN; the events never carry it
    assert PIN not in repr(pushed)


@pytest.mark.parametrize("presented", [None, "", "callback-token-3f9b"])
def test_a_callback_without_the_right_token_is_refused(presented):
    body = urlencode({"notifyType": 1, "lockId": 1, "records": "[]"}).encode()
    with pytest.raises(WebhookRefused):
        parse_ttlock_webhook({}, body, TOKEN, presented_token=presented)


def test_a_callback_that_cannot_be_read_is_refused():
    with pytest.raises(WebhookRefused):
        parse_ttlock_webhook({}, b"lockId=x&records=[", TOKEN, presented_token=TOKEN)


def test_tokens_outlive_one_provider_so_a_pass_does_not_log_in_again(cloud, provider):
    cloud.add_lock("Front door")
    provider(lambda p: p.list_devices())
    provider(lambda p: p.list_devices())
    assert cloud.token_grants == {"password": 1}


def test_a_sleeping_wifi_lock_takes_a_code_queued_accepted_until_it_wakes(cloud, provider, clock):
    lock_id = cloud.add_lock("Studio", power_saving=True)
    device = str(lock_id)
    created = provider(lambda p: p.create_code(device, NewCode("x", PIN, stay(clock))))
    assert created.state is CodeState.ACCEPTED
    [queued] = provider(lambda p: p.list_codes(device))
    assert (queued.code_id, queued.state) == (created.code_id, CodeState.ACCEPTED)
    assert cloud.codes_on_lock(lock_id) == []
    cloud.wake(lock_id)
    [written] = provider(lambda p: p.list_codes(device))
    assert written.state is CodeState.SET


def test_a_queued_code_the_lock_refuses_shows_failed_and_the_callback_says_no_access(
    cloud, provider, clock
):
    receiver = Receiver()
    lock_id = cloud.add_lock("Studio", power_saving=True)
    provider(lambda p: p.create_code(str(lock_id), NewCode("x", PIN, stay(clock))))
    with serve(receiver.app()) as url:
        cloud.callback_url = f"{url}/webhooks/ttlock/{TOKEN}"
        cloud.wake(lock_id, refuse=True)
    [failed] = provider(lambda p: p.list_codes(str(lock_id)))
    assert failed.state is CodeState.FAILED
    assert failed.error
    assert PIN not in failed.error
    [delivery] = receiver.deliveries
    assert parse_ttlock_webhook({}, delivery.body, TOKEN, presented_token=TOKEN) == []


def test_one_lock_list_a_minute_answers_for_every_locks_health(cloud, provider, clock):
    doors = [str(cloud.add_lock(f"Door {n}", battery=50 + n)) for n in range(3)]

    async def every_health(p):
        batteries = [(await p.health(door)).battery_percent for door in doors]
        clock.advance(minutes=2)
        await p.health(doors[0])
        return batteries

    assert provider(every_health) == [50, 51, 52]
    assert cloud.calls["/v3/lock/list"] == 2
