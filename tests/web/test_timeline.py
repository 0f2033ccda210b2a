"""The timeline is SVG drawn from data: checked here as XML, without a browser."""

import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from doorcode.domain.grants import GrantState
from doorcode.services.dashboard import TimelineGrant, days_span
from doorcode.web.timeline import render_timeline

SVG = "{http://www.w3.org/2000/svg}"
LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def bar(grant_id, kind, starts, hours, state=GrantState.SCHEDULED, holder="Ada"):
    start = NOW + timedelta(hours=starts)
    return TimelineGrant(grant_id, kind, state, holder, start, start + timedelta(hours=hours), None)


def draw(bars, now=NOW, zone=LISBON, days=14):
    chart = render_timeline(bars, span=days_span(now, zone, days), now=now, zone=zone, label="Flat")
    return chart, ET.fromstring(str(chart.svg))


def rects(root):
    return [rect for rect in root.iter(f"{SVG}rect") if "bar" in rect.get("class", "").split()]


def test_each_grant_is_a_linked_bar_with_a_tooltip_and_the_chart_is_labelled():
    chart, root = draw([bar("grt_a", "guest", 6, 68, holder="Ada <script>")])
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Timeline of Flat: 1 code from Mon 23 Nov to Sun 06 Dec"
    [rect] = rects(root)
    assert rect.get("class") == "bar k-guest g-scheduled"
    tip = rect.find(f"{SVG}title").text
    assert tip.startswith("Ada <script> · guest · scheduled\nMon 23 Nov 15:00 → Thu 26 Nov 11:00")
    assert "<script>" not in str(chart.svg)  # escaped, not markup
    [link] = root.iter(f"{SVG}a")
    assert link.get("href") == "/grants/grt_a"


def test_bars_sit_where_their_windows_are_and_now_is_marked():
    _chart, root = draw([bar("grt_a", "guest", 15, 24)])  # Tue 00:00 to Wed 00:00 Lisbon
    [rect] = rects(root)
    day = (1000 - 86 - 8) / 14
    assert abs(float(rect.get("x")) - (86 + day)) < 0.2
    assert abs(float(rect.get("width")) - day) < 0.2
    [now] = [line for line in root.iter(f"{SVG}line") if line.get("class") == "now"]
    assert abs(float(now.get("x1")) - (86 + day * 9 / 24)) < 0.2


def test_kinds_get_their_own_lanes_and_grants_that_do_not_overlap_share_one():
    bars = [
        bar("g1", "guest", 6, 40),
        bar("g2", "guest", 50, 40),  # after g1: same lane
        bar("g3", "guest", 30, 40),  # overlaps both: a second lane
        bar("s1", "staff", 24, 4),
        bar("b1", "backup", 6, 40),
    ]
    _chart, root = draw(bars)
    lane_of = {link.get("href"): link.find(f"{SVG}rect").get("y") for link in root.iter(f"{SVG}a")}
    assert len(set(lane_of.values())) == 4  # guest ×2, backup, staff
    assert lane_of["/grants/g1"] == lane_of["/grants/g2"] != lane_of["/grants/g3"]
    labels = [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "lane"]
    assert labels == ["guest", "backup", "staff"]


def test_state_shows_in_the_class_and_bars_outside_the_span_are_left_out():
    bars = [
        bar("r", "manual", 2, 5, GrantState.REVOKED),
        bar("a", "staff", -1, 5, GrantState.ACTIVE),
        bar("gone", "guest", -100, 5, GrantState.EXPIRED),
        bar("later", "guest", 24 * 20, 5),
    ]
    chart, root = draw(bars)
    classes = sorted(rect.get("class") for rect in rects(root))
    assert classes == ["bar k-manual g-revoked", "bar k-staff g-active"]
    assert [shown.grant_id for shown in chart.bars] == ["r", "a"]


def test_days_follow_the_propertys_clock_across_a_daylight_saving_change():
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2027, 3, 26, 12, tzinfo=UTC)  # clocks go forward on Sunday 28 March
    _chart, root = draw([], now=now, zone=berlin, days=4)
    days = [float(line.get("x1")) for line in root.iter(f"{SVG}line") if line.get("class") == "day"]
    widths = [round(b - a, 1) for a, b in itertools.pairwise(days)]
    assert widths[0] == widths[1] > widths[2]  # Sunday has 23 hours
    ticks = [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "tick"]
    assert ticks == ["Fri 26", "Sat 27", "Sun 28", "Mon 29"]


def test_an_empty_chart_says_so_and_now_outside_the_span_is_not_drawn():
    past = NOW - timedelta(days=30)
    chart = render_timeline([], span=days_span(past, LISBON, 7), now=NOW, zone=LISBON, label="x")
    root = ET.fromstring(str(chart.svg))
    assert "No codes in these days" in [text.text for text in root.iter(f"{SVG}text")]
    assert not [line for line in root.iter(f"{SVG}line") if line.get("class") == "now"]
