"""Timelines: each grant as a bar over the coming days, drawn as SVG on the server.

``render_timeline`` is pure (data in, markup out), so it is tested without a browser. Bars
are grouped in lanes by kind (guest, backup, staff, master, manual) and packed so that
grants which do not overlap share a lane; their colour says the kind and their style the
state (scheduled: light, active: solid, expired: grey, revoked: dashed outline, struck
through). A red line marks now. Days are the property's local days, so a daylight-saving
change makes one day an hour longer or shorter, as it is on site. Each bar has a tooltip
(``<title>``) and links to its grant; the chart is ``role="img"`` with a label, and the
page lists the same grants in a table below it for anyone who would rather read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from markupsafe import Markup, escape

from doorcode.services.dashboard import (
    TimelineGrant,
    days_span,
    display_zone,
    local_midnight,
    timeline_of_properties,
)
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

__all__ = ["DEFAULT_DAYS", "KIND_ORDER", "Chart", "render_timeline", "router"]

KIND_ORDER = ("guest", "backup", "staff", "master", "manual")
WIDTH = 1000
GUTTER = 86
RIGHT = 8
HEADER = 40
LANE = 24
GAP = 6
BOTTOM = 8
CHAR = 6.4  # average advance of the 11 px label font, for trimming labels to their bar
DEFAULT_DAYS = 14
MAX_DAYS = 62

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered timeline: the SVG and the grants it shows, for the table below it."""

    svg: Markup
    bars: list[TimelineGrant]
    zone: ZoneInfo


def render_timeline(
    bars: Sequence[TimelineGrant],
    *,
    span: tuple[datetime, datetime],
    now: datetime,
    zone: ZoneInfo,
    label: str,
    axis: ZoneInfo | None = None,
) -> Chart:
    """The SVG timeline of ``bars`` over ``span``, now marked; bars' times read on ``zone``.

    The day lines are ``axis``'s days (``zone``'s by default): charts drawn one above the
    other over the same span and axis line up, whatever their properties' zones.
    """
    starts, ends = span
    axis = axis or zone
    shown = [bar for bar in bars if bar.ends_at > starts and bar.starts_at < ends]
    lanes = _lanes(shown)
    height = HEADER + max(len(lanes), 1) * (LANE + GAP) + BOTTOM
    scale = _Scale(starts, ends)
    last_day = (ends - timedelta(seconds=1)).astimezone(axis)
    summary = (
        f"Timeline of {label}: {len(shown)} code{'s' if len(shown) != 1 else ''} from "
        f"{starts.astimezone(axis):%a %d %b} to {last_day:%a %d %b}"
    )
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(summary)}</title>",
        *_days(scale, axis, height),
        *_lane_labels(lanes),
        *(_bar(bar, scale, row, zone) for row, (_kind, lane) in enumerate(lanes) for bar in lane),
    ]
    if not shown:
        parts.append(
            f'<text class="empty" x="{GUTTER + 8}" y="{HEADER + LANE / 2 + 4}">'
            "No codes in these days</text>"
        )
    if starts <= now < ends:
        x = scale.x(now)
        parts.append(
            f'<line class="now" x1="{x:.1f}" y1="{HEADER - 6}" x2="{x:.1f}" y2="{height - 2}">'
            f"<title>now: {now.astimezone(zone):%a %d %b %H:%M %Z}</title></line>"
        )
        parts.append(f'<text class="now-label" x="{x + 3:.1f}" y="{HEADER - 8}">now</text>')
    parts.append("</svg>")
    return Chart(Markup("".join(parts)), shown, zone)  # noqa: S704 (every value is escaped)


@router.get("/timeline")
def timeline_page(request: Request, session: SessionDep, days: int = DEFAULT_DAYS) -> Response:
    """One timeline per property over the next ``days`` days, all on one day axis.

    The axis is the properties' common zone (UTC when they have several), so a moment sits at
    the same place in every row; each bar's tooltip still reads on its property's clock.
    """
    runtime = runtime_of(request)
    days = max(1, min(days, MAX_DAYS))
    now = runtime.clock()
    with_grants = timeline_of_properties(runtime.uow(), session.caller, _widest_span(now, days))
    axis = display_zone(prop for prop, _bars in with_grants)
    span = days_span(now, axis, days)
    charts = [
        (
            prop,
            render_timeline(
                bars, span=span, now=now, zone=display_zone([prop]), label=prop.name, axis=axis
            ),
        )
        for prop, bars in with_grants
    ]
    return render(
        request,
        "timeline.html",
        session=session,
        section="timeline",
        charts=charts,
        days=days,
        axis=axis,
        kinds=KIND_ORDER,
    )


def _widest_span(now: datetime, days: int) -> tuple[datetime, datetime]:
    """A span that holds every zone's local days (zones are at most 14 h from UTC)."""
    return now - timedelta(days=1), now + timedelta(days=days + 1)


class _Scale:
    def __init__(self, starts: datetime, ends: datetime) -> None:
        self.starts, self.ends = starts, ends
        self.seconds = (ends - starts).total_seconds()

    def x(self, instant: datetime) -> float:
        clamped = min(max(instant, self.starts), self.ends)
        share = (clamped - self.starts).total_seconds() / self.seconds
        return GUTTER + share * (WIDTH - GUTTER - RIGHT)


def _lanes(bars: Sequence[TimelineGrant]) -> list[tuple[str, list[TimelineGrant]]]:
    """Lanes by kind; within a kind, each bar goes to the first lane free by its start."""
    lanes: list[tuple[str, list[TimelineGrant]]] = []
    for kind in sorted({bar.kind for bar in bars}, key=_kind_rank):
        mine: list[list[TimelineGrant]] = []
        for bar in sorted((b for b in bars if b.kind == kind), key=lambda b: b.starts_at):
            lane = next((lane for lane in mine if lane[-1].ends_at <= bar.starts_at), None)
            if lane is None:
                mine.append([bar])
            else:
                lane.append(bar)
        lanes.extend((kind, lane) for lane in mine)
    return lanes


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _days(scale: _Scale, zone: ZoneInfo, height: int) -> list[str]:
    first = scale.starts.astimezone(zone).date()
    count = round(scale.seconds / 86400)
    step = 1 if count <= 16 else 2 if count <= 31 else 7
    parts = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        x1, x2 = (
            scale.x(local_midnight(day, zone)),
            scale.x(local_midnight(day + timedelta(days=1), zone)),
        )
        if day.weekday() >= 5:
            parts.append(
                f'<rect class="weekend" x="{x1:.1f}" y="{HEADER - 4}" '
                f'width="{x2 - x1:.1f}" height="{height - HEADER}"/>'
            )
        parts.append(
            f'<line class="day" x1="{x1:.1f}" y1="{HEADER - 4}" x2="{x1:.1f}" y2="{height}"/>'
        )
        if offset % step == 0:
            parts.append(
                f'<text class="tick" x="{x1 + 3:.1f}" y="{HEADER - 24}">{day:%a %d}</text>'
            )
    return parts


def _lane_labels(lanes: list[tuple[str, list[TimelineGrant]]]) -> list[str]:
    parts, previous = [], None
    for row, (kind, _lane) in enumerate(lanes):
        if kind != previous:
            y = HEADER + row * (LANE + GAP) + LANE / 2 + 4
            parts.append(f'<text class="lane" x="4" y="{y:.1f}">{escape(kind)}</text>')
        previous = kind
    return parts


def _bar(bar: TimelineGrant, scale: _Scale, row: int, zone: ZoneInfo) -> str:
    x1, x2 = scale.x(bar.starts_at), scale.x(bar.ends_at)
    width = max(x2 - x1, 2.0)
    y = HEADER + row * (LANE + GAP)
    holder = bar.holder or bar.kind
    tip = (
        f"{holder} · {bar.kind} · {bar.state.value}\n"
        f"{bar.starts_at.astimezone(zone):%a %d %b %H:%M} → "
        f"{bar.ends_at.astimezone(zone):%a %d %b %H:%M %Z}"
    )
    fits = int((width - 8) / CHAR)
    text = holder if len(holder) <= fits else holder[: max(fits - 1, 0)] + "…"
    label = (
        f'<text class="bar-label" x="{x1 + 4:.1f}" y="{y + LANE / 2 + 4:.1f}">{escape(text)}</text>'
        if fits >= 3
        else ""
    )
    return (
        f'<a href="/grants/{escape(bar.grant_id)}" class="bar-link">'
        f'<rect class="bar k-{escape(bar.kind)} g-{bar.state.value}" x="{x1:.1f}" y="{y}" '
        f'width="{width:.1f}" height="{LANE}" rx="3"><title>{escape(tip)}</title></rect>'
        f"{label}</a>"
    )
