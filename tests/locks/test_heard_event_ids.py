"""The id of a pushed event comes from what the lock sent, never from who heard it when."""

from datetime import UTC, datetime, timedelta

from doorcode.locks.access_events import heard_event_id

HEARD = datetime(2026, 12, 1, 15, 0, 31, 400_000, tzinfo=UTC)
OPENING = {"action": "unlock", "user": 4, "source": "keypad"}


def test_the_senders_own_stamp_names_the_message_whenever_it_was_heard():
    stamp = "2026-12-01T15:00:31.377Z"
    first = heard_event_id("0xabc", OPENING, HEARD, stamp)
    assert heard_event_id("0xabc", OPENING, HEARD + timedelta(seconds=3), stamp) == first
    assert heard_event_id("0xabc", OPENING, HEARD, "2026-12-01T15:00:35.102Z") != first


def test_without_a_stamp_the_hearing_window_and_the_content_name_it():
    first = heard_event_id("home.2", OPENING, HEARD)
    assert heard_event_id("home.2", OPENING, HEARD + timedelta(milliseconds=50)) == first
    assert heard_event_id("home.2", OPENING, HEARD + timedelta(seconds=4)) != first
    assert heard_event_id("home.2", OPENING | {"user": 5}, HEARD) != first
    assert heard_event_id("home.3", OPENING, HEARD) != first


def test_the_content_is_read_whatever_order_its_keys_came_in():
    reordered = dict(reversed(list(OPENING.items())))
    assert heard_event_id("home.2", reordered, HEARD) == heard_event_id("home.2", OPENING, HEARD)
