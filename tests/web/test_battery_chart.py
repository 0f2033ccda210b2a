"""The battery chart is pure: readings in, SVG out, a step line clamped to its weeks."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from doorcode.store.models import LockHealthSample
from doorcode.web.battery_chart import render_battery

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Lisbon")


def reading(days_ago: float, percent: int | None) -> LockHealthSample:
    at = NOW - timedelta(days=days_ago)
    return LockHealthSample(observed_at=at, online=True, battery_percent=percent)


def chart(samples, label="Door"):
    return str(render_battery(samples, now=NOW, zone=ZONE, threshold=25, label=label))


def test_no_battery_reported_draws_nothing():
    assert chart([]) == ""
    assert chart([reading(1, None)]) == ""


def test_the_level_holds_until_the_next_reading_and_the_last_until_now():
    svg = chart([reading(50, 90), reading(14, 60), reading(1, 20)])
    assert 'aria-label="Battery of Door over 6 weeks: 20 % now"' in svg
    assert svg.count("<circle") == 2  # the reading older than six weeks only starts the line
    points = svg.split('class="level"')[1].split('points="')[1].split('"')[0].split()
    assert points[0].startswith("34.0,")  # clamped to the left edge
    assert points[-1].startswith("594.0,")  # the last level runs to now
    assert "alert below 25 %" in svg


def test_a_lock_name_is_escaped():
    assert "&lt;script&gt;" in chart([reading(1, 50)], label="<script>")
    assert "<script>" not in chart([reading(1, 50)], label="<script>")
