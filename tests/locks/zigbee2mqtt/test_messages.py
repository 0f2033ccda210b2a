"""Reading zigbee2mqtt's payloads: what each topic says, and nothing from what it does not."""

from datetime import UTC, datetime

from doorcode.locks.access_events import AccessMethod, AccessOutcome
from doorcode.locks.zigbee2mqtt.messages import (
    ActionReport,
    opening_of,
    read_availability,
    read_devices,
    read_failure,
    read_state,
)
from doorcode.locks.zigbee2mqtt.models import LockModel, Readback, model_for, parse_overrides


def test_availability_reads_the_json_of_zigbee2mqtt_2_and_the_bare_word_of_1x():
    assert read_availability(b'{"state": "offline"}') is False
    assert read_availability(b"online") is True
    assert read_availability(b"") is None
    assert read_availability(b'{"state": "maybe"}') is None


def test_a_device_list_that_is_not_a_list_is_nothing_not_no_locks():
    assert read_devices(b'{"oops": 1}') is None
    assert read_devices(b"not json") is None
    assert read_devices(b"[]") == []


def test_a_pin_code_expose_nested_in_features_makes_a_lock():
    device = {
        "ieee_address": "0x01",
        "friendly_name": "Door",
        "power_source": "Mains (single phase)",
        "definition": {
            "model": "M",
            "exposes": [
                {"type": "composite", "features": [{"name": "pin_code", "property": "pin_code"}]}
            ],
        },
    }
    import json

    [entry] = read_devices(json.dumps([device]).encode())
    assert (entry.ieee_address, entry.friendly_name, entry.battery) == ("0x01", "Door", False)


def test_a_state_message_gives_occupied_slots_with_pins_only_when_shown():
    report = read_state(
        b'{"users": {"0": {"status": "enabled", "pin_code": "0123"}, '
        b'"1": {"status": "available"}, "2": {"status": "enabled"}}, "battery": 55, '
        b'"last_seen": 1796126400000}'
    )
    assert [(s.user, s.occupied, s.pin) for s in report.slots] == [
        (0, True, "0123"),  # leading zero kept
        (1, False, None),
        (2, True, None),
    ]
    assert report.battery == 55
    assert report.last_seen == datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_an_empty_action_is_no_action():
    assert read_state(b'{"action": "", "state": "LOCK"}').action is None


def test_openings_and_refusals_are_access_events_and_programming_is_not():
    assert opening_of(ActionReport("unlock", 4, "keypad"))[:2] == (
        AccessOutcome.OPENED,
        AccessMethod.KEYPAD,
    )
    assert opening_of(ActionReport("unlock_failure_invalid_pin_or_id", None, "keypad"))[0] is (
        AccessOutcome.REFUSED
    )
    assert opening_of(ActionReport("pin_code_added", 4, None)) is None
    assert opening_of(ActionReport("lock", None, "manual")) is None


def test_a_logged_failed_set_names_the_device_and_why():
    failure = read_failure(
        b'{"level": "error", "message": "Publish \'set\' \'pin_code\' to \'Front door\' '
        b"failed: 'Error: Status 'DUPLICATE_CODE''\"}"
    )
    assert (failure.device, failure.duplicate, failure.full) == ("Front door", True, False)
    assert read_failure(b'{"level": "info", "message": "MQTT publish"}') is None


def test_model_families_overrides_and_write_only_locks():
    assert model_for("YRD226HA2619").slots == 250
    assert model_for("BE468").slots == 30
    overrides = parse_overrides("Front door=40, YRD256=12", "Gate")
    assert model_for("YRD256", "Back door", overrides=overrides) == LockModel(12)
    assert model_for("YRD256", "Front door", overrides=overrides) == LockModel(40)
    assert model_for("X", "Gate", overrides=overrides).readback is Readback.NONE


def test_a_malformed_slots_option_is_refused_naming_the_entry():
    import pytest

    with pytest.raises(ValueError, match="Front door"):
        parse_overrides("Front door")
    with pytest.raises(ValueError, match="=0"):
        parse_overrides("Front door=0")
