"""The zigbee2mqtt adapter against a simulated bridge on the real Mosquitto: the documented
topics, each quirk of real locks, and the radio it costs."""

from __future__ import annotations

import time

import pytest

from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.base import CodeState, NewCode
from doorcode.locks.errors import (
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    ProviderError,
    ProviderUnavailable,
    UnknownDevice,
)
from doorcode.locks.zigbee2mqtt import LinkSettings, Zigbee2MqttLink, Zigbee2MqttProvider
from doorcode.locks.zigbee2mqtt.simulator import Duplicates, LockBehaviour
from tests.locks.zigbee2mqtt.conftest import device_of, run

SCHLAGE = {"model": "BE468", "vendor": "Schlage", "slots": 30}


def code(pin: str, slot: int) -> NewCode:
    return NewCode("doorcode grt_x", pin, None, slot)


def wait_for(condition, what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.02)


def test_locks_are_the_devices_exposing_pin_code_with_slots_from_the_model_table(bridge, zigbee):
    bridge.add_lock("Front door", model="YRD256HA20BP")
    bridge.add_lock("Back door", **SCHLAGE)
    devices = {device.name: device for device in run(zigbee().list_devices())}
    assert sorted(devices) == ["Back door", "Front door"]  # not the sensor, not the coordinator
    assert devices["Front door"].capabilities.max_codes == 250
    assert devices["Back door"].capabilities.max_codes == 30
    assert devices["Front door"].external_id == bridge.locks["Front door"].ieee
    assert not devices["Front door"].capabilities.native_scheduling


def test_the_slots_option_overrides_the_table_by_name_and_covers_unknown_models(bridge, zigbee):
    bridge.add_lock("Front door", model="YRD256HA20BP")
    bridge.add_lock("Shed", model="XY-LOCK-9", vendor="Nobody")
    provider = zigbee(slots="Front door=40")
    devices = {device.name: device for device in run(provider.list_devices())}
    assert devices["Front door"].capabilities.max_codes == 40
    assert devices["Shed"].capabilities.max_codes == 10  # unknown: a small range until told


def test_an_account_reconnected_with_other_options_gets_a_link_that_follows_them(bridge, zigbee):
    bridge.add_lock("Front door", model="YRD256HA20BP")
    before = zigbee(slots="Front door=40")
    assert run(before.list_devices())[0].capabilities.max_codes == 40
    after = zigbee(slots="Front door=20")
    assert run(after.list_devices())[0].capabilities.max_codes == 20
    assert after.link is not before.link


def test_a_code_goes_to_the_zigbee_user_one_below_the_slot_and_is_read_back(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    created = run(provider.create_code(device, code("482913", 5)))
    assert (created.code_id, created.state) == ("5", CodeState.SET)
    assert bridge.held("Front door") == {4: "482913"}  # zigbee counts users from 0
    assert bridge.received[("Front door", "set")] == 1
    listed = run(provider.list_codes(device))
    assert [(c.code_id, c.code, c.state) for c in listed] == [("5", "482913", CodeState.SET)]


def test_the_first_listing_reads_every_slot_once_and_later_ones_cost_no_radio(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    bridge.put("Front door", 0, "111111")  # the owner's code, set at the keypad
    provider = zigbee()
    device = device_of(provider, "Front door")
    listed = run(provider.list_codes(device))
    assert [(c.code_id, c.code) for c in listed] == [("1", "111111")]
    assert bridge.received[("Front door", "get")] == 30  # one state message per slot
    for _ in range(5):
        assert len(run(zigbee().list_codes(device))) == 1  # a new session, the same link
    assert bridge.received[("Front door", "get")] == 30
    assert provider.operations.gets == 30
    assert provider.operations.sets == 0


def test_a_code_typed_in_at_the_lock_shows_up_without_asking_the_lock(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))
    bridge.put("Front door", 9, "777777")
    wait_for(lambda: len(run(provider.list_codes(device))) == 1, "the lock's pin_code_added")
    assert bridge.received[("Front door", "get")] == 30


def test_clearing_reads_the_slot_back_and_clearing_an_empty_slot_is_no_error(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.create_code(device, code("482913", 5)))
    run(provider.delete_code(device, "5"))
    assert bridge.held("Front door") == {}
    run(provider.delete_code(device, "5"))
    assert run(provider.list_codes(device)) == []


def test_without_expose_pin_codes_are_listed_without_their_digits(bridge, zigbee):
    bridge.add_lock("Front door", expose_pin=False, **SCHLAGE)
    bridge.put("Front door", 0, "111111")
    provider = zigbee()
    device = device_of(provider, "Front door")
    assert [(c.code_id, c.code) for c in run(provider.list_codes(device))] == [("1", None)]
    created = run(provider.create_code(device, code("482913", 5)))
    assert created.state is CodeState.SET  # occupied is all a masked read can confirm


def test_a_masked_model_confirms_a_write_by_occupancy(bridge, zigbee):
    bridge.add_lock("Front door", behaviour=LockBehaviour.MASKED, **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    assert run(provider.create_code(device, code("482913", 5))).state is CodeState.SET
    assert [(c.code_id, c.code) for c in run(provider.list_codes(device))] == [("5", None)]


def test_a_write_only_lock_is_never_read_and_its_event_confirms_the_write(bridge, zigbee):
    bridge.add_lock("Gate", behaviour=LockBehaviour.WRITE_ONLY, model="GATE-1", vendor="X")
    provider = zigbee(slots="Gate=20", write_only="Gate")
    device = device_of(provider, "Gate")
    assert run(provider.list_codes(device)) == []  # no inventory: it would not answer
    created = run(provider.create_code(device, code("482913", 5)))
    assert created.state is CodeState.ACCEPTED
    wait_for(
        lambda: [c.state for c in run(provider.list_codes(device))] == [CodeState.SET],
        "the lock's pin_code_added to confirm the write",
    )
    assert bridge.received[("Gate", "get")] == 0


def test_a_lock_that_answers_no_read_is_not_asked_again(bridge, zigbee):
    bridge.add_lock("Gate", behaviour=LockBehaviour.WRITE_ONLY, model="GATE-1", slots=20)
    provider = zigbee(answer_timeout="0.3")
    device = device_of(provider, "Gate")
    run(provider.list_codes(device))
    assert bridge.received[("Gate", "get")] == 3  # three silent reads, then no more
    assert run(provider.create_code(device, code("482913", 5))).state is CodeState.ACCEPTED
    assert bridge.received[("Gate", "get")] == 3


def test_a_lock_that_stops_answering_halfway_resumes_its_inventory_at_the_next_pass(bridge, zigbee):
    lock = bridge.add_lock("Front door", reads_before_sleep=10, **SCHLAGE)
    bridge.put("Front door", 20, "111111")
    provider = zigbee(answer_timeout="0.3")
    device = device_of(provider, "Front door")
    with pytest.raises(LockOffline):
        run(provider.list_codes(device))
    assert bridge.received[("Front door", "get")] == 13  # ten answered, three silent
    lock.asleep, lock.reads_before_sleep = False, None
    assert [(c.code_id, c.code) for c in run(provider.list_codes(device))] == [("21", "111111")]
    assert bridge.received[("Front door", "get")] == 13 + 20  # resumed at slot 11, not restarted


@pytest.mark.parametrize("duplicates", [Duplicates.REFUSE, Duplicates.REFUSE_SILENTLY])
def test_a_pin_held_in_another_slot_is_a_duplicate(bridge, zigbee, duplicates):
    bridge.add_lock("Front door", duplicates=duplicates, **SCHLAGE)
    bridge.put("Front door", 0, "482913")
    provider = zigbee()
    device = device_of(provider, "Front door")
    with pytest.raises(DuplicateCode) as refused:
        run(provider.create_code(device, code("482913", 5)))
    assert "482913" not in str(refused.value)
    assert bridge.held("Front door") == {0: "482913"}


def test_a_full_lock_refuses_more_codes(bridge, zigbee):
    bridge.add_lock("Front door", capacity=1, **SCHLAGE)
    bridge.put("Front door", 0, "111111")
    provider = zigbee()
    device = device_of(provider, "Front door")
    with pytest.raises(NoSpaceLeft):
        run(provider.create_code(device, code("482913", 5)))
    with pytest.raises(NoSpaceLeft):
        run(provider.create_code(device, code("482913", 31)))  # beyond the model's 30 slots
    assert bridge.held("Front door") == {0: "111111"}


def test_a_stale_cached_slot_does_not_pass_for_the_read_back(bridge, zigbee):
    """zigbee2mqtt repeats its cached view of every slot read before in each state message."""
    bridge.add_lock("Front door", cache_state=True, **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))  # slot 5 is cached as available
    assert run(provider.create_code(device, code("482913", 5))).state is CodeState.SET
    run(provider.delete_code(device, "5"))
    assert run(provider.create_code(device, code("593024", 5))).state is CodeState.SET
    assert [c.code for c in run(provider.list_codes(device))] == ["593024"]


def test_a_slow_read_back_leaves_the_code_accepted_until_the_answer_comes(bridge, zigbee):
    lock = bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee(answer_timeout="0.3")
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))
    lock.answer_delay = 1.0
    assert run(provider.create_code(device, code("482913", 5))).state is CodeState.ACCEPTED
    wait_for(
        lambda: [c.state for c in run(provider.list_codes(device))] == [CodeState.SET],
        "the late answer",
    )
    assert bridge.received[("Front door", "get")] == 31  # never polled


def test_a_write_whose_answer_was_lost_is_read_once_more_when_a_check_is_due(bridge, zigbee):
    """Not stuck at "adding" for ever (the peers' first complaint), and not polled either."""
    lock = bridge.add_lock("Front door", sleeps_after_set=True, **SCHLAGE)
    # 3 s: the "not yet due" read below comes within it even on a loaded machine.
    provider = zigbee(answer_timeout="0.3", recheck_after="3")
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))
    assert run(provider.create_code(device, code("482913", 5))).state is CodeState.ACCEPTED
    lock.asleep = False  # awake again; its answer to the read-back was lost
    assert [c.state for c in run(provider.list_codes(device))] == [CodeState.ACCEPTED]
    assert bridge.received[("Front door", "get")] == 31  # not yet due: not asked
    time.sleep(3.1)
    assert [c.state for c in run(provider.list_codes(device))] == [CodeState.SET]
    assert bridge.received[("Front door", "get")] == 32
    run(provider.list_codes(device))
    assert bridge.received[("Front door", "get")] == 32


def test_a_lock_zigbee2mqtt_marks_offline_is_not_written(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))
    bridge.set_online("Front door", False)
    wait_for(lambda: run(provider.health(device)).online is False, "availability offline")
    sent = provider.operations.total
    with pytest.raises(LockOffline):
        run(provider.create_code(device, code("482913", 5)))
    assert provider.operations.total == sent


def test_health_says_what_zigbee2mqtt_availability_is_worth_for_a_battery_lock(bridge, zigbee):
    bridge.add_lock("Front door", battery=64, **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.list_codes(device))
    health = run(provider.health(device))
    assert health.online is True
    assert health.battery_percent == 64
    assert health.note is not None
    assert "25 h" in health.note


def test_a_keypad_opening_is_one_access_event_of_the_slot_and_is_not_repeated(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    run(provider.create_code(device, code("482913", 5)))
    first = run(provider.access_events(device, None))
    assert bridge.keypad("Front door", "482913")
    assert not bridge.keypad("Front door", "000000")
    wait_for(
        lambda: len(run(provider.access_events(device, first.cursor)).events) == 2,
        "two access events",
    )
    page = run(provider.access_events(device, first.cursor))
    opened, refused = page.events
    assert (opened.outcome, opened.method, opened.code_ref) == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
        "5",
    )
    assert (refused.outcome, refused.reason) == (AccessOutcome.REFUSED, RefusalReason.UNKNOWN_CODE)
    assert run(zigbee().access_events(device, page.cursor)).events == ()


def test_events_heard_between_sessions_reach_the_next_session(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    device = device_of(zigbee(), "Front door")
    cursor = run(zigbee().access_events(device, None)).cursor
    bridge.put("Front door", 3, "482913")
    bridge.keypad("Front door", "482913")  # no session is open now; the link listens
    wait_for(lambda: len(run(zigbee().access_events(device, cursor)).events) == 1, "the opening")


def test_an_unknown_device_and_a_missing_slot_choice_are_refused(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    with pytest.raises(UnknownDevice):
        run(provider.list_codes("0xdeadbeef"))
    device = device_of(provider, "Front door")
    with pytest.raises(NotSupported):
        run(provider.create_code(device, NewCode("doorcode grt_x", "482913")))
    with pytest.raises(NotSupported):
        run(provider.update_code(device, "5", None))


def test_no_broker_is_provider_unavailable_within_the_connect_timeout(broker):
    settings = LinkSettings("127.0.0.1", _closed_port(), "zigbee2mqtt", connect_timeout=0.5)
    link = Zigbee2MqttLink.start(settings, clock=lambda: None)
    try:
        with pytest.raises(ProviderUnavailable) as failed:
            run(Zigbee2MqttProvider(link).list_devices())
        assert "does not answer" in str(failed.value)
    finally:
        link.close()


def test_a_broker_without_zigbee2mqtt_is_provider_unavailable(bridge, zigbee):
    provider = zigbee(base_topic=f"{bridge.base_topic}-nobody", connect_timeout="0.5")
    with pytest.raises(ProviderUnavailable) as failed:
        run(provider.list_devices())
    assert "bridge/devices" in str(failed.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


OPERATIONS = {
    "list_devices": lambda provider, device: provider.list_devices(),
    "list_codes": lambda provider, device: provider.list_codes(device),
    "create_code": lambda provider, device: provider.create_code(device, code("482913", 5)),
    "update_code": lambda provider, device: provider.update_code(device, "5", None),
    "delete_code": lambda provider, device: provider.delete_code(device, "5"),
    "health": lambda provider, device: provider.health(device),
    "access_events": lambda provider, device: provider.access_events(device, None),
}


def _no_broker(bridge, zigbee):
    return zigbee(port=str(_closed_port()), connect_timeout="0.3"), "0x01"


def _no_bridge(bridge, zigbee):
    return zigbee(base_topic=f"{bridge.base_topic}-x", connect_timeout="0.3"), "0x01"


def _lock_offline(bridge, zigbee):
    bridge.add_lock("Front door", online=False, **SCHLAGE)
    provider = zigbee()
    return provider, device_of(provider, "Front door")


def _unknown_device(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    return zigbee(), "0xdeadbeef"


def _bridge_offline(bridge, zigbee):
    bridge.add_lock("Front door", **SCHLAGE)
    provider = zigbee()
    device = device_of(provider, "Front door")
    bridge._do(bridge._publish("bridge/state", {"state": "offline"}, retain=True))
    wait_for(lambda: provider.link._bridge_online is False, "bridge/state offline")
    return provider, device


FAULTS = {
    "no broker": _no_broker,
    "no bridge": _no_bridge,
    "lock offline": _lock_offline,
    "unknown device": _unknown_device,
    "bridge offline": _bridge_offline,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_leaves_every_operation_as_a_provider_error_without_the_pin(
    bridge, zigbee, fault
):
    """Anything but a ``ProviderError`` escaping would stop a whole sweep, not one lock."""
    provider, device = FAULTS[fault](bridge, zigbee)
    for operation in OPERATIONS.values():
        try:
            run(operation(provider, device))
        except ProviderError as err:
            message = str(err)
        else:
            message = ""
        assert "482913" not in message
