"""The TTLock client against a local TTLock cloud that follows the published Open API."""

import asyncio
from datetime import UTC, timedelta

import httpx
import pytest

from doorcode.locks.errors import (
    CodeNotFound,
    LockOffline,
    NoSpaceLeft,
    ProviderAuthFailed,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from doorcode.locks.ttlock.client import (
    TTLOCK_ERRORS,
    TtlockClient,
    TtlockCredentials,
    md5_password,
    ttlock_error,
)
from tests.locks.fakes import ttlock as fake

PIN = "482913"

DOCUMENTED = [
    1, 10000, 10001, 10003, 10004, 10007, 10011, 20002, 30006, 30007, 30008, 80000, 80002,
    90000, -3, -1003, -1007, -1026, -2009, -2012, -2018, -2025, -2032, -3002, -3003, -3006,
    -3007, -3008, -3009, -3034, -3035, -3036, -3037, -4043, -4056,
]  # fmt: skip
"""Every errcode of TTLock's published list that the calls doorcode makes can answer."""


def stay(clock, hours=26):
    start = clock() + timedelta(hours=1)
    return start, start + timedelta(hours=hours)


def test_the_account_password_goes_as_lowercase_md5():
    assert md5_password("password") == fake.PASSWORD_MD5


def test_locks_are_listed_with_battery_and_gateway(cloud, ttlock):
    cloud.add_lock("Front door", battery=64)
    cloud.add_lock("Cabin", has_gateway=False, battery=12)
    locks = ttlock(lambda client: client.list_locks())
    assert [(lock.alias, lock.battery_percent, lock.has_gateway) for lock in locks] == [
        ("Front door", 64, True),
        ("Cabin", 12, False),
    ]


def test_a_code_added_through_the_gateway_reaches_the_lock_and_opens_it(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Front door")
    start, end = stay(clock)
    passcode_id = ttlock(
        lambda client: client.add_passcode(lock_id, "doorcode grt_a1", PIN, (start, end))
    )
    assert [p.passcode_id for p in cloud.codes_on_lock(lock_id)] == [passcode_id]
    clock.advance(hours=2)
    assert cloud.enter(lock_id, PIN)
    [listed] = ttlock(lambda client: client.list_passcodes(lock_id))
    assert (listed.name, listed.starts_at, listed.ends_at) == ("doorcode grt_a1", start, end)
    assert PIN not in repr(listed)


@pytest.mark.parametrize(
    ("traits", "why"),
    [
        ({"has_gateway": False}, "no gateway"),
        ({"gateway_online": False}, "gateway is offline"),
        ({"online": False}, "lock is offline"),
    ],
)
def test_a_lock_the_gateway_cannot_reach_is_offline(cloud, ttlock, clock, traits, why):
    lock_id = cloud.add_lock("Cabin", **traits)
    start, end = stay(clock)
    with pytest.raises(LockOffline, match=why):
        ttlock(lambda client: client.add_passcode(lock_id, "x", PIN, (start, end)))
    assert cloud.codes_on_lock(lock_id) == []


def test_a_change_moves_both_dates(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Front door")
    start, end = stay(clock)
    passcode_id = ttlock(lambda client: client.add_passcode(lock_id, "x", PIN, (start, end)))
    later = end + timedelta(days=1)
    ttlock(lambda client: client.change_passcode(lock_id, passcode_id, start, later))
    [moved] = cloud.codes_on_lock(lock_id)
    assert (moved.starts_at, moved.ends_at) == (start, later)


def test_a_deleted_code_leaves_the_lock_and_a_second_delete_says_it_is_gone(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Front door")
    start, end = stay(clock)
    passcode_id = ttlock(lambda client: client.add_passcode(lock_id, "x", PIN, (start, end)))
    ttlock(lambda client: client.delete_passcode(lock_id, passcode_id))
    assert cloud.codes_on_lock(lock_id) == []
    with pytest.raises(CodeNotFound):
        ttlock(lambda client: client.delete_passcode(lock_id, passcode_id))


def test_a_full_lock_refuses_the_251st_code(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Front door")
    start, end = stay(clock)
    for n in range(fake.CAPACITY):
        ttlock_pin = f"{100000 + n * 7}"
        cloud.locks[lock_id].passcodes[n] = fake.Passcode(
            n, "x", ttlock_pin, start, end, True, True
        )
    with pytest.raises(NoSpaceLeft):
        ttlock(lambda client: client.add_passcode(lock_id, "x", "9081726", (start, end)))


def test_an_expired_token_is_renewed_once_and_the_call_goes_through(cloud, ttlock):
    cloud.add_lock("Front door")
    ttlock(lambda client: client.list_locks())
    cloud.expire_tokens()
    assert len(ttlock(lambda client: client.list_locks())) == 1
    assert cloud.token_grants == {"password": 1, "refresh_token": 1}


def test_a_token_past_its_lifetime_is_renewed_before_the_call(cloud, ttlock, clock):
    ttlock(lambda client: client.list_locks())
    clock.advance(days=91)
    ttlock(lambda client: client.list_locks())
    assert cloud.token_grants == {"password": 1, "refresh_token": 1}


def test_a_wrong_password_is_refused_credentials_without_the_password(cloud, base_url, clock):
    credentials = TtlockCredentials(fake.CLIENT_ID, fake.CLIENT_SECRET, fake.USERNAME, "0" * 32)

    async def go():
        async with httpx.AsyncClient(timeout=5) as http:
            client = TtlockClient(http, credentials, clock=clock, base_url=base_url)
            await client.list_locks()

    with pytest.raises(ProviderAuthFailed) as refused:
        asyncio.run(go())
    assert "0" * 32 not in str(refused.value)
    assert "0" * 32 not in repr(credentials)


def test_the_call_limit_errcode_backs_off(cloud, ttlock):
    cloud.rate_limit = (2, timedelta(minutes=1))
    ttlock(lambda client: client.list_locks())
    ttlock(lambda client: client.list_locks())
    with pytest.raises(RateLimited) as limited:
        ttlock(lambda client: client.list_locks())
    assert limited.value.retry_after == timedelta(minutes=1)


def test_http_429_backs_off_for_as_long_as_retry_after_says(cloud, ttlock):
    cloud.fail_next("/v3/lock/list", status=429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        ttlock(lambda client: client.list_locks())
    assert limited.value.retry_after == timedelta(seconds=7)


def test_a_server_error_is_transient(cloud, ttlock):
    cloud.fail_next("/v3/lock/list", status=502)
    with pytest.raises(ProviderUnavailable):
        ttlock(lambda client: client.list_locks())


def test_an_unreachable_cloud_is_transient(credentials, clock):
    async def go():
        async with httpx.AsyncClient(timeout=2) as http:
            client = TtlockClient(http, credentials, clock=clock, base_url="http://127.0.0.1:9")
            await client.list_locks()

    with pytest.raises(ProviderUnavailable):
        asyncio.run(go())


def test_every_documented_errcode_is_mapped_to_a_specific_error():
    unmapped = [code for code in DOCUMENTED if type(ttlock_error(code)) is ProviderError]
    assert unmapped == []
    assert set(TTLOCK_ERRORS) == set(DOCUMENTED)


def test_every_documented_errcode_from_the_cloud_raises_its_mapped_error(cloud, ttlock):
    cloud.add_lock("Front door")
    raised = {}

    async def every_errcode(client):
        await client.list_locks()
        for errcode in DOCUMENTED:
            if errcode == 10004:
                continue  # renewed, not raised: see the token tests
            cloud.fail_next("/v3/lock/list", errcode=errcode)
            try:
                await client.list_locks()
            except ProviderError as err:
                raised[errcode] = (type(err), str(errcode) in str(err))

    ttlock(every_errcode)
    expected = {code: (TTLOCK_ERRORS[code][0], True) for code in DOCUMENTED if code != 10004}
    assert raised == expected


def test_the_vendor_offline_code_covers_the_stay_in_whole_hours(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Cabin", has_gateway=False)
    start = clock() + timedelta(minutes=20)
    end = start + timedelta(hours=26, minutes=5)
    code = ttlock(lambda client: client.get_offline_code(lock_id, "x", start, end))
    assert code.starts_at == start.replace(minute=0)
    assert code.starts_at <= start
    assert code.ends_at >= end
    assert code.ends_at.minute == 0
    clock.advance(hours=2)
    assert cloud.enter(lock_id, code.pin)
    assert code.pin not in repr(code)


def test_a_vendor_offline_code_unused_for_24_hours_dies(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Cabin", has_gateway=False)
    start, end = clock(), clock() + timedelta(days=3)
    code = ttlock(lambda client: client.get_offline_code(lock_id, "x", start, end))
    clock.advance(hours=25)
    assert not cloud.enter(lock_id, code.pin)


def test_records_since_an_instant_come_oldest_first_without_the_pin(cloud, ttlock, clock):
    lock_id = cloud.add_lock("Front door")
    start, end = stay(clock)
    ttlock(lambda client: client.add_passcode(lock_id, "doorcode grt_a1", PIN, (start, end)))
    clock.advance(hours=2)
    cloud.enter(lock_id, "999999")
    clock.advance(minutes=1)
    cloud.enter(lock_id, PIN)
    records = ttlock(lambda client: client.list_records(lock_id, start))
    assert [(r.success, r.username) for r in records] == [(False, ""), (True, "doorcode grt_a1")]
    assert all(PIN not in repr(r) for r in records)
    assert records[0].lock_date.tzinfo == UTC
    assert records[0].lock_date < records[1].lock_date
