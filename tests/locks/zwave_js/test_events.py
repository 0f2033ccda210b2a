"""What the server pushes becomes doorcode's access events: each opening once, never a PIN."""

from datetime import UTC, datetime, timedelta

from doorcode.locks.access_events import AccessMethod, AccessOutcome, RefusalReason
from doorcode.locks.zwave_js.events import access_events_of
from doorcode.locks.zwave_js.link import HeardEvent

AT = datetime(2026, 12, 1, 15, tzinfo=UTC)


def notification(seconds, event, **parameters):
    args = {"type": 6, "event": event, "parameters": parameters}
    return HeardEvent(2, AT + timedelta(seconds=seconds), "notification", args)


def mode(seconds, new, old):
    args = {"commandClass": 98, "property": "currentMode", "newValue": new, "prevValue": old}
    return HeardEvent(2, AT + timedelta(seconds=seconds), "door_lock", args)


def summary(heard):
    return [(e.outcome, e.method, e.code_ref, e.reason) for e in access_events_of("home.2", heard)]


def test_a_keypad_unlock_names_its_slot_and_other_openings_their_method():
    heard = [notification(0, 6, userId=12), notification(60, 2), notification(120, 4)]
    assert summary(heard) == [
        (AccessOutcome.OPENED, AccessMethod.KEYPAD, "12", None),
        (AccessOutcome.OPENED, AccessMethod.MANUAL, None, None),
        (AccessOutcome.OPENED, AccessMethod.APP, None, None),
    ]


def test_the_lock_mode_change_that_follows_an_opening_is_not_a_second_one():
    heard = [notification(0, 6, userId=4), mode(1, 0x00, 0xFF), mode(600, 0x00, 0xFF)]
    assert summary(heard) == [
        (AccessOutcome.OPENED, AccessMethod.KEYPAD, "4", None),
        (AccessOutcome.OPENED, AccessMethod.UNKNOWN, None, None),
    ]


def test_locking_and_a_mode_that_did_not_change_are_no_openings():
    heard = [notification(0, 5, userId=4), notification(1, 1), mode(2, 0xFF, 0x00), mode(3, 0, 0)]
    assert summary(heard) == []


def test_a_keypad_disabled_after_wrong_codes_is_a_refusal():
    assert summary([notification(0, 0x10)]) == [
        (AccessOutcome.REFUSED, AccessMethod.KEYPAD, None, RefusalReason.LOCKED_OUT)
    ]


def test_each_event_has_its_own_id_on_the_device():
    events = access_events_of("home.2", [notification(0, 6, userId=4), notification(0.5, 2)])
    assert len({e.event_id for e in events}) == 2
    assert all(e.event_id.startswith("home.2@") for e in events)
