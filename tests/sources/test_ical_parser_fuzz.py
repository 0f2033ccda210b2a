"""Fuzzing the iCal parser: whatever a calendar says, it reads it, skips events with a reason,
or calls the body unreadable, and never raises anything else; what it reads is usable."""

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorcode.domain.windows import FIRST_DAY, LAST_DAY
from doorcode.sources.ical_parser import (
    CalendarUnreadable,
    Channel,
    FeedEvent,
    ParsedCalendar,
    parse_calendar,
)

MOMENTS = [
    "20261204",
    "20261207",
    "99991231",
    "00010101",
    "19991231",
    "21991231",
    "20261204T150000Z",
    "20261204T150000",
    "99991231T235959Z",
    "00010101T000000Z",
    "not a date",
]
DURATIONS = ["P1D", "P100000000D", "-P1D", "PT0S", "P999999999D", "PT1H", "nonsense"]
PARAMETERS = ["", ";VALUE=DATE", ";VALUE=DATE-TIME", ";TZID=Europe/London", ";TZID=Nowhere/Land"]
OTHERS = [
    "SUMMARY:Reserved",
    "SUMMARY:Airbnb (Not available)",
    "SUMMARY:Reserved - Ada",
    "STATUS:CANCELLED",
    "RRULE:FREQ=DAILY",
    "RECURRENCE-ID:20261204",
    "DESCRIPTION:Reservation URL: https://example.org/r/1\\nPhone Number (Last 4 Digits): 1234",
    "BEGIN:VALARM",
    "END:VALARM",
    " folded",
]


def moment(name):
    return st.builds(
        lambda parameter, value: f"{name}{parameter}:{value}",
        st.sampled_from(PARAMETERS),
        st.sampled_from(MOMENTS) | st.sampled_from(MOMENTS) | st.text(max_size=20),
    )


events = st.builds(
    lambda *parts: ["BEGIN:VEVENT", *(line for part in parts for line in part), "END:VEVENT"],
    st.lists(st.sampled_from(["UID:a@airbnb.com", "UID:b", "UID:"]), max_size=2),
    st.lists(moment("DTSTART"), min_size=1, max_size=2),
    st.lists(
        st.one_of(
            moment("DTEND"),
            st.sampled_from(DURATIONS).map(lambda value: f"DURATION:{value}"),
        ),
        max_size=2,
    ),
    st.lists(st.one_of(st.sampled_from(OTHERS), st.text(max_size=40)), max_size=3),
)
calendars = st.builds(
    lambda prodid, bodies, tail: "\r\n".join(
        ["BEGIN:VCALENDAR", f"PRODID:{prodid}", "VERSION:2.0"]
        + [line for event in bodies for line in event]
        + tail
    ),
    st.sampled_from(["-//Airbnb Inc//Hosting Calendar//EN", "-//HomeAway//EN", "-//PMS//EN", ""]),
    st.lists(events, min_size=1, max_size=4),
    st.sampled_from([["END:VCALENDAR"], [], ["END:VCALENDAR", "BEGIN:VCALENDAR"]]),
)


def read(data: bytes, channel: Channel) -> ParsedCalendar | None:
    try:
        return parse_calendar(data, channel)
    except CalendarUnreadable:
        return None


def assert_usable(event: FeedEvent) -> None:
    assert event.uid is None or isinstance(event.uid, str)
    for moment in (event.start, event.end):
        day = moment.date() if isinstance(moment, datetime) else moment
        assert isinstance(day, date)
        assert FIRST_DAY <= day <= LAST_DAY


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars, st.sampled_from(list(Channel)))
def test_any_calendar_text_is_read_skipped_or_unreadable_never_an_error(text, channel):
    parsed = read(text.encode("utf-8", "surrogatepass"), channel)
    if parsed is not None:
        for event in parsed.events:
            assert_usable(event)
        assert all(isinstance(skipped.reason, str) for skipped in parsed.skipped)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_unreadable_never_an_error(data):
    read(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + data, Channel.AUTO)
    read(data, Channel.AUTO)
