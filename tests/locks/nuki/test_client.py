"""The Nuki Web client against a local Nuki Web API that follows the published docs."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    ProviderAuthFailed,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
)
from doorcode.locks.nuki.client import NUKI_STATUS_ERRORS, NukiClient, keypad_code_problem
from tests.locks.fakes import nuki as fake

PIN = "482913"


def window(clock, hours=26):
    start = clock() + timedelta(hours=1)
    return start, start + timedelta(hours=hours)


def test_smartlocks_are_listed_with_battery_and_online_state(cloud, nuki):
    cloud.add_smartlock("Front door", battery=64)
    cloud.add_smartlock("Garden", online=False, battery=10)
    locks = nuki(lambda client: client.list_smartlocks())
    assert [(s.name, s.online, s.battery_percent, s.battery_critical) for s in locks] == [
        ("Front door", True, 64, False),
        ("Garden", False, 10, True),
    ]


def test_a_created_code_is_found_by_listing_and_opens_within_its_window(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    allowed = window(clock)
    assert (
        nuki(lambda client: client.create_keypad_code(sid, "doorcode grt_a1", PIN, allowed)) is None
    )
    [listed] = nuki(lambda client: client.list_keypad_codes(sid))
    assert (listed.name, listed.allowed_from, listed.allowed_until) == ("doorcode grt_a1", *allowed)
    assert PIN not in repr(listed)
    assert not cloud.enter(sid, PIN)
    clock.advance(hours=2)
    assert cloud.enter(sid, PIN)


def test_an_update_keeps_the_time_limits_because_it_sends_the_whole_body(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    start, end = window(clock)
    nuki(lambda client: client.create_keypad_code(sid, "x", PIN, (start, end)))
    [created] = nuki(lambda client: client.list_keypad_codes(sid))
    later = end + timedelta(days=1)
    nuki(lambda client: client.update_keypad_code(sid, created.auth_id, "x", PIN, (start, later)))
    [moved] = nuki(lambda client: client.list_keypad_codes(sid))
    assert (moved.allowed_from, moved.allowed_until) == (start, later)


def test_the_fake_drops_time_limits_on_a_partial_update_as_nuki_does(cloud, base_url, clock):
    sid = cloud.add_smartlock("Front door")
    _start, _end = window(clock)
    cloud.smartlocks[sid].auths["a1"] = fake.Auth(
        "a1", "x", 482913, "2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z", 127, "", True
    )
    headers = {"Authorization": f"Bearer {fake.TOKEN}"}
    answer = httpx.post(
        f"{base_url}/smartlock/{sid}/auth/a1",
        json={"type": 13, "name": "y", "code": 482913},
        headers=headers,
    )
    assert answer.status_code == 204
    assert cloud.smartlocks[sid].auths["a1"].allowed_until is None


@pytest.mark.parametrize("pin", ["12345", "1234567", "482013", "123456", "48291a"])
def test_a_code_nuki_would_refuse_is_refused_before_it_is_sent(cloud, nuki, clock, pin):
    sid = cloud.add_smartlock("Front door")
    with pytest.raises(CodeRefused) as refused:
        nuki(lambda client: client.create_keypad_code(sid, "x", pin, window(clock)))
    assert pin not in str(refused.value)
    assert cloud.calls[f"PUT /smartlock/{sid}/auth"] == 0


def test_the_keypad_rules_are_nukis(cloud):
    assert keypad_code_problem("482913") is None
    assert keypad_code_problem("129999") is not None
    assert keypad_code_problem("402913") is not None


def test_a_pin_already_on_the_lock_is_a_duplicate(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    nuki(lambda client: client.create_keypad_code(sid, "x", PIN, window(clock)))
    with pytest.raises(DuplicateCode):
        nuki(lambda client: client.create_keypad_code(sid, "y", PIN, window(clock)))


def test_deleting_a_code_that_is_gone_is_code_not_found(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    nuki(lambda client: client.create_keypad_code(sid, "x", PIN, window(clock)))
    [created] = nuki(lambda client: client.list_keypad_codes(sid))
    nuki(lambda client: client.delete_keypad_code(sid, created.auth_id))
    assert cloud.codes_on_keypad(sid) == []
    with pytest.raises(CodeNotFound):
        nuki(lambda client: client.delete_keypad_code(sid, created.auth_id))


def test_an_unknown_smartlock_is_an_unknown_device(cloud, nuki):
    with pytest.raises(UnknownDevice):
        nuki(lambda client: client.list_keypad_codes(1))


def test_a_code_for_an_offline_smartlock_reaches_the_keypad_when_it_is_back(cloud, nuki, clock):
    sid = cloud.add_smartlock("Garden", online=False)
    nuki(lambda client: client.create_keypad_code(sid, "x", PIN, window(clock)))
    assert cloud.codes_on_keypad(sid) == []
    cloud.set_online(sid, True)
    assert len(cloud.codes_on_keypad(sid)) == 1


def test_a_wrong_token_is_refused_credentials_without_the_token(base_url):
    async def go():
        async with httpx.AsyncClient(timeout=5) as http:
            await NukiClient(http, "not-the-token", base_url=base_url).list_smartlocks()

    with pytest.raises(ProviderAuthFailed) as refused:
        asyncio.run(go())
    assert "not-the-token" not in str(refused.value)


def test_http_429_backs_off_for_as_long_as_retry_after_says(cloud, nuki):
    cloud.fail_next("GET", "/smartlock", 429, retry_after=9)
    with pytest.raises(RateLimited) as limited:
        nuki(lambda client: client.list_smartlocks())
    assert limited.value.retry_after == timedelta(seconds=9)


def test_every_documented_status_raises_its_mapped_error(cloud, nuki):
    raised = {}

    async def every_status(client):
        for status in [*NUKI_STATUS_ERRORS, 429, 500, 502, 503]:
            cloud.fail_next("GET", "/smartlock", status)
            try:
                await client.list_smartlocks()
            except ProviderError as err:
                raised[status] = type(err)

    nuki(every_status)
    expected = {status: kind for status, (kind, _) in NUKI_STATUS_ERRORS.items()}
    expected |= {429: RateLimited, 500: ProviderUnavailable, 502: ProviderUnavailable}
    expected |= {503: ProviderUnavailable}
    assert raised == expected


def test_the_log_since_an_instant_comes_oldest_first(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    start = clock()
    nuki(
        lambda client: client.create_keypad_code(
            sid, "doorcode grt_a1", PIN, (start, start + timedelta(days=1))
        )
    )
    clock.advance(minutes=1)
    cloud.enter(sid, "999999")
    clock.advance(minutes=1)
    cloud.enter(sid, PIN)
    entries = nuki(lambda client: client.list_log(sid, start))
    assert [(e.state, e.name) for e in entries] == [(224, ""), (0, "doorcode grt_a1")]
    assert entries[0].at < entries[1].at


def test_a_busy_door_loses_no_log_entry_between_two_polls(cloud, nuki, clock):
    sid = cloud.add_smartlock("Front door")
    start = clock()
    for _ in range(120):
        clock.advance(seconds=30)
        cloud.enter(sid, "999999")
    entries = nuki(lambda client: client.list_log(sid, start))
    assert len(entries) == 120
    assert [e.at for e in entries] == sorted(e.at for e in entries)
