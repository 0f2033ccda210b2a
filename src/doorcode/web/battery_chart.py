"""The battery level of a lock over the last weeks, drawn as a small SVG on the server.

Pure (samples in, markup out), as the timeline is. A step line follows the reported level
(a battery holds its charge until the next reading says otherwise); a dashed line marks the
alert threshold; day ticks follow the property's local weeks. The chart is ``role="img"``
with a label that says the latest level, and has a ``<title>`` per reading for a pointer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from doorcode.store.models import LockHealthSample

__all__ = ["BATTERY_WEEKS", "render_battery"]

BATTERY_WEEKS = 6
WIDTH = 600
HEIGHT = 120
LEFT = 34
RIGHT = 6
TOP = 8
BOTTOM = 20


def render_battery(
    samples: Sequence[LockHealthSample],
    *,
    now: datetime,
    zone: ZoneInfo,
    threshold: int,
    label: str,
    weeks: int = BATTERY_WEEKS,
) -> Markup:
    """The battery level of ``samples`` over the ``weeks`` up to ``now``; empty without any."""
    known = [s for s in samples if s.battery_percent is not None]
    if not known:
        return Markup("")
    start = now - timedelta(weeks=weeks)
    latest = known[-1].battery_percent
    summary = f"Battery of {label} over {weeks} weeks: {latest} % now"
    parts = [
        f'<svg class="battery" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">',
        *_axes(start, now, zone, threshold),
        _line(known, start, now),
        *_points(known, start, now, zone),
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 (numbers, dates and escaped text only)


def _x(instant: datetime, start: datetime, now: datetime) -> float:
    span = (now - start).total_seconds()
    share = min(max((instant - start).total_seconds() / span, 0.0), 1.0)
    return round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)


def _y(percent: int) -> float:
    return round(TOP + (100 - percent) / 100 * (HEIGHT - TOP - BOTTOM), 1)


def _axes(start: datetime, now: datetime, zone: ZoneInfo, threshold: int) -> list[str]:
    parts = []
    for percent in (0, 50, 100):
        y = _y(percent)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" '
            'stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y + 4}" text-anchor="end" font-size="10">{percent}%</text>'
        )
    y = _y(threshold)
    parts.append(
        f'<line class="threshold" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" '
        f'stroke="#c0392b" stroke-dasharray="4 3"><title>alert below {threshold} %</title></line>'
    )
    day = start.astimezone(zone).date()
    while True:
        day += timedelta(days=7 - day.weekday())  # each Monday
        tick = datetime.combine(day, datetime.min.time(), zone)
        if tick >= now:
            break
        x = _x(tick, start, now)
        parts.append(
            f'<text x="{x}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">'
            f"{tick:%d %b}</text>"
        )
    return parts


def _line(samples: Sequence[LockHealthSample], start: datetime, now: datetime) -> str:
    """A step line: each level holds until the next reading, the last one until now."""
    points: list[str] = []
    for sample, following in zip(samples, [*samples[1:], None], strict=True):
        assert sample.battery_percent is not None
        y = _y(sample.battery_percent)
        until = following.observed_at if following is not None else now
        points += [f"{_x(sample.observed_at, start, now)},{y}", f"{_x(until, start, now)},{y}"]
    return (
        f'<polyline class="level" fill="none" stroke="#2c7be5" stroke-width="2" '
        f'points="{" ".join(points)}"/>'
    )


def _points(
    samples: Sequence[LockHealthSample], start: datetime, now: datetime, zone: ZoneInfo
) -> list[str]:
    return [
        f'<circle cx="{_x(s.observed_at, start, now)}" cy="{_y(s.battery_percent or 0)}" r="2.5" '
        f'fill="#2c7be5"><title>{s.battery_percent} % at '
        f"{s.observed_at.astimezone(zone):%a %d %b %H:%M}</title></circle>"
        for s in samples
        if s.observed_at >= start
    ]
