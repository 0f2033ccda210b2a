"""The Z-Wave JS adapter against the real zwave-js driver and simulated locks.

Each test talks to ``@zwave-js/server`` over its websocket with the client Home Assistant
uses, and checks what the simulated lock really holds and which commands it really received.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from doorcode.locks.access_events import AccessMethod, AccessOutcome
from doorcode.locks.base import CodeState, NewCode
from doorcode.locks.errors import (
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderUnavailable,
    UnknownDevice,
)
from doorcode.locks.zwave_js import RADIO, RadioKind, ZwaveJsProvider
from tests.conftest import FakeClock

T = TypeVar("T")
NODE = 2


def run(peer, clock: FakeClock, work: Callable[[ZwaveJsProvider, str], Awaitable[T]]) -> T:
    """Run ``work`` with a provider on the peer and the id of the first lock."""

    async def main() -> T:
        provider = ZwaveJsProvider(peer.url, clock=clock)
        try:
            devices = await provider.list_devices()
            device_id = next(d.external_id for d in devices if d.external_id.endswith(f".{NODE}"))
            return await work(provider, device_id)
        finally:
            await provider.aclose()

    return asyncio.run(main())


def sent(kind: RadioKind, url: str) -> int:
    return RADIO.total(kind, url)


def code(slot: int, pin: str) -> NewCode:
    return NewCode("doorcode grt_x", pin, slot=slot)


def test_every_lock_node_is_a_device_with_its_slot_count(zwave_peer, clock):
    devices = run(zwave_peer, clock, lambda provider, _: provider.list_devices())
    assert sorted(d.external_id.split(".")[1] for d in devices) == ["2", "3", "4"]
    assert {d.capabilities.max_codes for d in devices} == {30}
    assert not any(d.capabilities.native_scheduling for d in devices)


def test_a_code_is_written_then_read_back_from_the_lock_once(zwave_peer, clock):
    before = {kind: sent(kind, zwave_peer.url) for kind in RadioKind}

    async def work(provider, device_id):
        created = await provider.create_code(device_id, code(7, "482913"))
        listed = await provider.list_codes(device_id)  # the cache may still lag: no matter
        return created, listed

    created, listed = run(zwave_peer, clock, work)
    assert (created.code_id, created.code, created.state) == ("7", "482913", CodeState.SET)
    assert [(c.code_id, c.code) for c in listed] == [("7", "482913")]
    assert zwave_peer.slots(NODE) == {7: "482913"}
    assert sent(RadioKind.WRITE, zwave_peer.url) - before[RadioKind.WRITE] == 1
    assert sent(RadioKind.READ, zwave_peer.url) - before[RadioKind.READ] == 1
    assert zwave_peer.frames(NODE) == {"UserCodeCCSet": 1, "UserCodeCCGet": 1}


def test_listing_sends_nothing_to_the_lock(zwave_peer, clock):
    zwave_peer.put(NODE, 2, "135792")
    zwave_peer.reset_frames()

    async def work(provider, device_id):
        return [await provider.list_codes(device_id) for _ in range(3)]

    listings = run(zwave_peer, clock, work)
    assert all(
        [(c.code_id, c.code, c.name) for c in listed] == [("2", "135792", "")]
        for listed in listings
    )
    assert zwave_peer.frames(NODE) == {}


def test_a_slot_never_read_is_read_once_the_first_time(zwave_peer, clock):
    zwave_peer.control("/forget", {"node": NODE})

    async def work(provider, device_id):
        first = await provider.list_codes(device_id)
        after_first = zwave_peer.frames(NODE)
        await provider.list_codes(device_id)
        return first, after_first

    first, after_first = run(zwave_peer, clock, work)
    assert first == []
    assert after_first == {"UserCodeCCGet": 30}
    assert zwave_peer.frames(NODE) == {"UserCodeCCGet": 30}


def test_a_cleared_slot_is_confirmed_empty_and_clearing_again_is_harmless(zwave_peer, clock):
    zwave_peer.put(NODE, 9, "246810")
    zwave_peer.reset_frames()

    async def work(provider, device_id):
        await provider.delete_code(device_id, "9")
        await provider.delete_code(device_id, "9")
        return await provider.list_codes(device_id)

    assert run(zwave_peer, clock, work) == []
    assert zwave_peer.slots(NODE) == {}


def test_a_pin_held_in_another_slot_is_refused_as_a_duplicate(zwave_peer, clock):
    zwave_peer.put(NODE, 1, "482913")
    zwave_peer.quirks(NODE, refuse_duplicates=True)

    async def work(provider, device_id):
        await provider.create_code(device_id, code(5, "482913"))

    with pytest.raises(DuplicateCode) as refused:
        run(zwave_peer, clock, work)
    assert "482913" not in str(refused.value)
    assert zwave_peer.slots(NODE) == {1: "482913"}


def test_a_full_slot_table_is_listed_whole_and_a_slot_past_it_is_no_space(zwave_peer, clock):
    zwave_peer.control("/fill", {"node": NODE, "code_from": 700000})
    zwave_peer.reset_frames()

    async def work(provider, device_id):
        listed = await provider.list_codes(device_id)
        with pytest.raises(NoSpaceLeft):
            await provider.create_code(device_id, code(31, "482913"))
        return listed

    assert len(run(zwave_peer, clock, work)) == 30
    assert zwave_peer.frames(NODE) == {}


def test_a_lock_that_masks_pins_confirms_by_occupancy(zwave_peer, clock):
    zwave_peer.quirks(NODE, masked=True)

    async def work(provider, device_id):
        created = await provider.create_code(device_id, code(4, "482913"))
        return created, await provider.list_codes(device_id)

    created, listed = run(zwave_peer, clock, work)
    assert (created.code_id, created.code, created.state) == ("4", None, CodeState.SET)
    assert [(c.code_id, c.code) for c in listed] == [("4", None)]
    assert zwave_peer.slots(NODE) == {4: "482913"}


def test_codes_that_are_not_four_to_ten_digits_are_refused_before_any_radio(zwave_peer, clock):
    async def work(provider, device_id):
        for pin in ("123", "12345678901", "12ab"):
            with pytest.raises(CodeRefused):
                await provider.create_code(device_id, code(4, pin))

    run(zwave_peer, clock, work)
    assert zwave_peer.frames(NODE) == {}


def test_a_keypad_opening_is_an_access_event_naming_the_slot(zwave_peer, clock):
    async def work(provider, device_id):
        await provider.access_events(device_id, None)  # listening from here on
        await asyncio.to_thread(zwave_peer.keypad, NODE, 6)
        page = await _until(lambda: provider.access_events(device_id, None), lambda p: p.events)
        again = await provider.access_events(device_id, page.cursor)
        return page, again

    page, again = run(zwave_peer, clock, work)
    [event] = page.events
    assert (event.outcome, event.method, event.code_ref) == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
        "6",
    )
    assert clock() <= event.occurred_at < clock() + timedelta(milliseconds=1)  # doorcode's clock
    assert again.events == ()


def test_a_dead_node_is_offline_and_costs_one_ping_not_a_write(zwave_peer, clock):
    async def work(provider, device_id):
        await asyncio.to_thread(zwave_peer.control, "/dead", {"node": NODE, "dead": True})
        await _until(lambda: provider.health(device_id), lambda h: h.online is False)
        writes = sent(RadioKind.WRITE, zwave_peer.url)
        with pytest.raises(LockOffline):
            await provider.create_code(device_id, code(4, "482913"))
        return await provider.health(device_id), sent(RadioKind.WRITE, zwave_peer.url) - writes

    health, writes = run(zwave_peer, clock, work)
    assert health.online is False
    assert writes == 0
    assert zwave_peer.slots(NODE) == {}


def test_health_reports_the_node_alive_with_its_battery(zwave_peer, clock):
    health = run(zwave_peer, clock, lambda provider, device_id: provider.health(device_id))
    assert (health.online, health.battery_percent) == (True, 87)


def test_a_device_of_another_network_is_unknown(zwave_peer, clock):
    async def work(provider, device_id):
        with pytest.raises(UnknownDevice):
            await provider.list_codes("deadbeef.2")
        with pytest.raises(UnknownDevice):
            await provider.list_codes(device_id.replace(".2", ".99"))

    run(zwave_peer, clock, work)


def test_a_server_that_is_not_there_is_unavailable(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def work():
        provider = ZwaveJsProvider(f"ws://127.0.0.1:{port}", clock=clock)
        try:
            await provider.list_devices()
        finally:
            await provider.aclose()

    with pytest.raises(ProviderUnavailable):
        asyncio.run(work())


async def _until(ask: Callable[[], Awaitable[Any]], done: Callable[[Any], Any]) -> Any:
    """Ask until ``done`` holds, for at most 10 s (pushed events take a moment)."""
    async with asyncio.timeout(10):
        while True:
            answer = await ask()
            if done(answer):
                return answer
            await asyncio.sleep(0.05)
