"""Two worker processes' links hear one keypad opening: both name it alike, so it is kept once.

Each process of ``doorcode worker`` keeps its own link to the broker, and zigbee2mqtt gives
the opening no id: the id comes from the message and the instant it was heard (to a window),
not from a link's own sequence.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from doorcode.locks.links import AccountLinks
from doorcode.locks.zigbee2mqtt import Zigbee2MqttProvider
from tests.locks.zigbee2mqtt.conftest import account_of, device_of, run

SCHLAGE = {"model": "BE468", "vendor": "Schlage", "slots": 30}
HEARD = datetime(2026, 12, 1, 15, 0, 31, 400_000, tzinfo=UTC)


class Clock:
    """What each process's clock reads while it hears the opening (settable, no waiting)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def process(bridge, clock: Clock) -> tuple[AccountLinks, Zigbee2MqttProvider]:
    """One worker process: links of its own, a provider on them."""
    links = AccountLinks()
    provider = Zigbee2MqttProvider.build(account_of(bridge), http=None, clock=clock, links=links)
    assert isinstance(provider, Zigbee2MqttProvider)
    return links, provider


def events_after(provider, device, cursor, count):
    deadline = time.monotonic() + 15  # a bound for failing: it returns once ``count`` are in
    while True:
        events = run(provider.access_events(device, cursor)).events
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def test_one_opening_heard_by_two_processes_has_one_id_and_two_openings_two(bridge):
    bridge.add_lock("Front door", **SCHLAGE)
    bridge.put("Front door", 4, "482913")
    first_clock, second_clock = Clock(HEARD), Clock(HEARD + timedelta(milliseconds=30))
    first_links, first = process(bridge, first_clock)
    second_links, second = process(bridge, second_clock)
    try:
        device = device_of(first, "Front door")
        cursors = [run(p.access_events(device, None)).cursor for p in (first, second)]
        assert bridge.keypad("Front door", "482913")
        [heard_first] = events_after(first, device, cursors[0], 1)
        [heard_second] = events_after(second, device, cursors[1], 1)
        assert heard_first.event_id == heard_second.event_id
        assert heard_first.code_ref == heard_second.code_ref == "5"
        first_clock.now += timedelta(seconds=4)  # the guest opens again a few seconds later
        assert bridge.keypad("Front door", "482913")
        again = events_after(first, device, cursors[0], 2)
        assert len({event.event_id for event in again}) == 2
    finally:
        first_links.close()
        second_links.close()
