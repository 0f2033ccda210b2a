"""Reading the calendars Airbnb, VRBO, Booking.com and PMSs export."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from doorcode.sources.ical_parser import (
    CalendarUnreadable,
    Channel,
    EventKind,
    parse_calendar,
)
from tests.sources.conftest import FIXTURES


def read(name, channel=Channel.AUTO):
    return parse_calendar((FIXTURES / "ical" / name).read_bytes(), channel)


def test_airbnb_reservations_carry_their_url_and_phone_digits_and_blocks_are_blocks():
    parsed = read("airbnb.ics")
    assert parsed.channel is Channel.AIRBNB
    first, second, blocked = parsed.events
    assert (first.kind, first.start, first.end) == (
        EventKind.BOOKING,
        date(2026, 12, 4),
        date(2026, 12, 7),
    )
    assert first.reservation_url == (
        "https://www.airbnb.com/hosting/reservations/details/HMABCD1234"
    )
    assert first.phone_last4 == "4567"
    assert first.uid.endswith("@airbnb.com")
    assert second.phone_last4 == "1234"
    assert blocked.kind is EventKind.BLOCKED
    assert blocked.summary == "Airbnb (Not available)"


def test_vrbo_names_the_guest_and_blocks_dates():
    parsed = read("vrbo.ics")
    assert parsed.channel is Channel.VRBO
    booked, blocked = parsed.events
    assert (booked.kind, booked.guest_name) == (EventKind.BOOKING, "Grace Hopper")
    assert blocked.kind is EventKind.BLOCKED


def test_booking_com_closed_dates_are_taken_as_bookings():
    parsed = read("booking.ics")
    assert parsed.channel is Channel.BOOKING
    (event,) = parsed.events
    assert event.summary == "CLOSED - Not available"
    assert event.kind is EventKind.BOOKING


def test_a_pms_feed_keeps_zones_floating_times_cancellations_and_skips_what_cannot_be_a_stay():
    parsed = read("pms.ics")
    assert parsed.channel is Channel.GENERIC
    by_uid = {event.uid.split("@")[0]: event for event in parsed.events}
    zoned = by_uid["pms-booking-1001"]
    assert zoned.start == datetime(2026, 12, 5, 10, tzinfo=ZoneInfo("America/New_York"))
    assert zoned.guest_name == "Katherine Johnson"
    assert by_uid["pms-booking-1002"].start == datetime(2026, 12, 10, 13, tzinfo=UTC)
    floating = by_uid["pms-booking-1003"].start
    assert (floating.tzinfo, floating.isoformat()) == (None, "2026-12-14T17:00:00")
    assert by_uid["pms-booking-1004"].kind is EventKind.CANCELLED
    assert by_uid["pms-owner-block"].kind is EventKind.BLOCKED
    reasons = {skip.uid.split("@")[0]: skip.reason for skip in parsed.skipped}
    assert "RRULE" in reasons["pms-cleaning-weekly"]
    assert "does not end after it starts" in reasons["pms-broken"]


def calendar(*lines: str) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *lines, "END:VCALENDAR"]
    return ("\r\n".join(body) + "\r\n").encode()


def event(*lines: str) -> tuple[str, ...]:
    return ("BEGIN:VEVENT", *lines, "END:VEVENT")


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (event("UID:a", "SUMMARY:x"), "no DTSTART"),
        (event("UID:a", "DTSTART;VALUE=DATE:2026XX04"), "DTSTART is not a date"),
        (
            event(
                "UID:a",
                "DTSTART;TZID=Mars/Olympus:20261204T100000",
                "DTEND;TZID=Mars/Olympus:20261205T100000",
            ),
            "time zone",
        ),
        (event("UID:a", "DTSTART:20261204T100000Z"), "no DTEND or DURATION"),
        (
            event("UID:a", "DTSTART:20261204T100000Z", "DURATION:three nights"),
            "DURATION is not a duration",
        ),
        (
            event("UID:a", "DTSTART;VALUE=DATE:20261204", "DTEND:20261205T100000Z"),
            "does not end after",
        ),
        (
            event("UID:a", "DTSTART:20261204T100000Z", "DTEND:20261204T100000Z"),
            "does not end after",
        ),
        (
            event("UID:a", "DTSTART;VALUE=DATE:20261204", "RECURRENCE-ID;VALUE=DATE:20261204"),
            "RRULE",
        ),
    ],
)
def test_events_that_cannot_be_stays_are_skipped_with_a_reason(lines, reason):
    parsed = parse_calendar(calendar(*lines))
    assert parsed.events == ()
    assert reason in parsed.skipped[0].reason


def test_an_all_day_event_without_an_end_lasts_one_day_and_a_duration_counts():
    parsed = parse_calendar(
        calendar(
            *event("UID:a", "DTSTART;VALUE=DATE:20261204"),
            *event("UID:b", "DTSTART:20261204T150000Z", "DURATION:P2DT20H"),
        )
    )
    one_day, lasting = parsed.events
    assert one_day.end == date(2026, 12, 5)
    assert lasting.end == datetime(2026, 12, 7, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "times",
    [
        (
            "DTSTART;TZID=America/New_York:20261204T000000",
            "DTEND;TZID=America/New_York:20261207T000000",
        ),
        ("DTSTART:20261204T000000Z", "DTEND:20261207T000000Z"),
        ("DTSTART:20261204T000000", "DURATION:P3D"),
    ],
)
def test_a_stay_written_from_midnight_to_midnight_is_read_as_its_days(times):
    """Google Calendar and many PMSs export all-day stays so; as times they lock the guest
    out at midnight before departure (or shift the stay a day west of Greenwich)."""
    (stay,) = parse_calendar(calendar(*event("UID:a", "SUMMARY:Ada", *times))).events
    assert (stay.start, stay.end) == (date(2026, 12, 4), date(2026, 12, 7))


@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b"BEGIN:VCALENDAR\r\n"])
def test_a_body_that_is_no_calendar_is_unreadable(body):
    with pytest.raises(CalendarUnreadable):
        parse_calendar(body)


@pytest.mark.parametrize("body", [b"", b"  \r\n", calendar()])
def test_empty_bodies_and_calendars_are_empty(body):
    assert parse_calendar(body).is_empty


def test_airbnbs_confirmation_code_is_the_booking_reference():
    parsed = parse_calendar((FIXTURES / "ical" / "airbnb.ics").read_bytes())
    references = [event.booking_reference for event in parsed.events if event.reservation_url]
    assert references == ["HMABCD1234", "HMWXYZ9876"]


@pytest.mark.parametrize(
    ("summary", "description", "reference"),
    [
        ("Ana Silva", "Reservation #4711\\nAdults: 2", "4711"),
        ("Booking ID: B-2231 (Ana)", "", "B-2231"),
        ("Guest", "Confirmation code: X9Q2ZZ", "X9Q2ZZ"),
        ("Reserved", "Reservation URL: https://example.org/r/1", None),
        ("Reserved", "", None),
    ],
)
def test_a_pms_reservation_number_is_read_from_the_description_or_summary(
    summary, description, reference
):
    event = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Some PMS//EN",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:pms-1",
            "DTSTART;VALUE=DATE:20261204",
            "DTEND;VALUE=DATE:20261207",
            f"SUMMARY:{summary}",
            f"DESCRIPTION:{description}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    ).encode()
    [parsed] = parse_calendar(event).events
    assert parsed.booking_reference == reference


def test_a_nul_in_a_uid_or_a_name_is_dropped_not_carried_to_the_database():
    """PostgreSQL refuses NUL in text: one such event would stop its whole feed."""
    parsed = parse_calendar(
        calendar(*event("UID:a\x00b", "DTSTART;VALUE=DATE:20261204", "SUMMARY:Ada\x00 L"))
    )
    [only] = parsed.events
    assert "\x00" not in only.uid
    assert "\x00" not in (only.guest_name or "")


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
def test_a_calendar_in_windows_1252_or_with_a_bom_keeps_the_guests_name(encoding):
    body = calendar(*event("UID:a", "SUMMARY:Zoë Müller", "DTSTART;VALUE=DATE:20261204"))
    (stay,) = parse_calendar(body.decode().encode(encoding)).events
    assert stay.guest_name == "Zoë Müller"
