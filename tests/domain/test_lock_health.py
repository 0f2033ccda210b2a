"""The pure rules of lock health: what is a problem, what is worth keeping, how to say when."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.lock_health import (
    HealthProblem,
    HealthReading,
    health_problems,
    is_worth_a_sample,
    no_show_deadline,
    when_phrase,
)

NOW = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
LISBON = ZoneInfo("Europe/Lisbon")


def test_an_unknown_value_is_never_a_problem():
    assert health_problems(HealthReading(None, None, NOW), 25) == set()
    assert health_problems(HealthReading(False, 24, NOW), 25) == {
        HealthProblem.OFFLINE,
        HealthProblem.BATTERY_LOW,
    }
    assert health_problems(HealthReading(True, 25, NOW), 25) == set()


def test_a_reading_is_kept_when_it_changed_or_an_hour_went_by():
    first = HealthReading(True, 80, NOW)
    assert is_worth_a_sample(None, first)
    assert not is_worth_a_sample(first, HealthReading(True, 80, NOW + timedelta(minutes=59)))
    assert is_worth_a_sample(first, HealthReading(True, 79, NOW + timedelta(minutes=1)))
    assert is_worth_a_sample(first, HealthReading(False, 80, NOW + timedelta(minutes=1)))
    assert is_worth_a_sample(first, HealthReading(True, 80, NOW + timedelta(hours=1)))


def test_the_no_show_hour_is_on_the_propertys_clock_across_a_clock_change():
    # Lisbon moves to summer time on Sunday 29 March 2026: 23:00 is 22:00 UTC that day.
    assert no_show_deadline(date(2026, 3, 28), time(23), LISBON) == datetime(
        2026, 3, 28, 23, 0, tzinfo=UTC
    )
    assert no_show_deadline(date(2026, 3, 29), time(23), LISBON) == datetime(
        2026, 3, 29, 22, 0, tzinfo=UTC
    )


def test_when_is_said_as_today_tomorrow_or_a_date_on_the_propertys_clock():
    assert when_phrase(NOW + timedelta(hours=6), NOW, LISBON) == "today 15:00"
    assert when_phrase(NOW + timedelta(days=1, hours=5), NOW, LISBON) == "tomorrow 15:00"
    assert when_phrase(NOW + timedelta(days=3), NOW, LISBON) == "Tue 31 Mar 10:00"
