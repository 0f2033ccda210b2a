"""Guest messages in the domain: when they are due, how retries back off, what listings show."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from doorcode.domain.messages import (
    ChannelName,
    InvalidMessageRules,
    MessageRules,
    addresses_for,
    alert_moment,
    instructions_due,
    mask_recipient,
    next_attempt_at,
    normalise_phone,
    recipient_masks,
    redact,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_instructions_go_out_days_before_at_the_local_time():
    check_in = datetime(2026, 12, 4, 15, tzinfo=LONDON)
    assert instructions_due(check_in, LONDON, MessageRules()) == datetime(
        2026, 12, 2, 10, tzinfo=UTC
    )


def test_the_local_send_time_holds_across_a_daylight_saving_change():
    # Clocks go forward on 29 March 2026: 10:00 on the 28th is GMT, on the 30th BST.
    rules = MessageRules(days_before=2, send_at=time(10))
    before = instructions_due(datetime(2026, 3, 30, 15, tzinfo=LONDON), LONDON, rules)
    after = instructions_due(datetime(2026, 4, 1, 15, tzinfo=LONDON), LONDON, rules)
    assert before == datetime(2026, 3, 28, 10, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_the_days_are_counted_on_the_property_calendar():
    tokyo = ZoneInfo("Asia/Tokyo")
    check_in = datetime(2026, 12, 4, 1, tzinfo=tokyo)  # 3 December in UTC
    due = instructions_due(check_in, tokyo, MessageRules(days_before=1, send_at=time(9)))
    assert due.astimezone(tokyo) == datetime(2026, 12, 3, 9, tzinfo=tokyo)


def test_an_alert_comes_hours_before_check_in_but_never_within_the_grace():
    check_in = NOW + timedelta(days=2)
    assert alert_moment(check_in, MessageRules(alert_hours=6), NOW) == check_in - timedelta(hours=6)
    soon = NOW + timedelta(hours=1)
    assert alert_moment(soon, MessageRules(alert_hours=6), NOW) == NOW + timedelta(minutes=15)


@pytest.mark.parametrize(
    "rules",
    [
        {"days_before": -1},
        {"days_before": 31},
        {"alert_hours": 169},
        {"send_at": time(10, tzinfo=UTC)},
    ],
)
def test_unreasonable_rules_are_refused(rules):
    with pytest.raises(InvalidMessageRules):
        MessageRules(**rules)


def test_retries_double_from_a_minute_to_an_hour_then_give_up():
    waits = [next_attempt_at(attempts, NOW) for attempts in range(1, 8)]
    assert [wait - NOW for wait in waits[:5]] == [
        timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16)
    ]
    assert waits[5:] == [None, None]
    assert next_attempt_at(1, NOW, timedelta(minutes=5)) == NOW + timedelta(minutes=5)
    assert next_attempt_at(1, NOW, timedelta(days=1)) == NOW + timedelta(hours=1)


def test_listings_mask_recipients():
    assert mask_recipient("ada.lovelace@example.org") == "a***@example.org"
    assert mask_recipient("+351912345678") == "+35*******678"
    assert mask_recipient("12345") == "***"


def test_redaction_removes_secrets_and_masks_addresses():
    text = "Twilio answered 400 (error 21211: The 'To' number +351912345678 is bad; code 4829)"
    cleaned = redact(text, ["4829"], {"+351912345678": "+35*******678"})
    assert (
        cleaned
        == "Twilio answered 400 (error 21211: The 'To' number +35*******678 is bad; code ***)"
    )


def test_a_number_echoed_without_its_plus_is_masked_too():
    echoed = "WhatsApp answered 400: recipient 351912345678 is not on WhatsApp"
    cleaned = redact(echoed, [], recipient_masks("+351912345678"))
    assert "912345" not in cleaned
    assert "+35*******678" in cleaned


def test_phones_become_e164_and_guests_are_reached_where_they_have_an_address():
    assert normalise_phone("+351 912 345 678") == "+351912345678"
    assert normalise_phone("12016665626") == "+12016665626"  # Guesty's: E.164 without its +
    assert normalise_phone("call me") is None
    channels = list(ChannelName)
    assert addresses_for("a@b.org", None, channels) == {
        ChannelName.EMAIL: "a@b.org",
        ChannelName.CONSOLE: "a@b.org",
    }
    assert addresses_for(None, "+351 912 345 678", [ChannelName.SMS, ChannelName.EMAIL]) == {
        ChannelName.SMS: "+351912345678"
    }
    assert addresses_for(None, None, channels) == {}


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(415) 555-0100", None),  # a US number without +1 was +41 (Switzerland) 555 500 100
        ("0912 345 678", None),  # a national trunk 0 is never a country code
        ("00351 912 345 678", "+351912345678"),  # 00 is the international prefix, not digits
    ],
)
def test_a_number_in_national_form_is_not_guessed_into_another_country(typed, e164):
    """Texting a door code to whoever holds the guessed number gives a stranger the door."""
    assert normalise_phone(typed) == e164
