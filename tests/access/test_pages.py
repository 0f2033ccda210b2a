"""The dashboard shows what the doors said: the lock's log and battery, the stay, Today."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.services.caller import Role
from tests.access.conftest import at_local
from tests.builders import make_user
from tests.web.conftest import csrf_of, sign_in


@pytest.fixture
def browser(stay):
    make_user(stay.runtime, stay.owner, "owner", Role.OWNER)
    # The tests move the clock by hours and weeks; the session must outlast that.
    stay.runtime.settings.session_idle_minutes = 60 * 24 * 60
    stay.runtime.settings.session_max_hours = 60 * 24
    with TestClient(create_app(stay.runtime), base_url="http://testserver") as client:
        assert sign_in(client, "owner").status_code == 303
        yield client


def test_the_lock_page_lists_openings_and_filters_them(stay, clock, browser):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, "111111")
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    page = browser.get(f"/locks/{stay.door.id}")
    assert page.status_code == 200
    log = page.text.split('id="log"')[1]
    assert "Ada Lovelace" in log
    assert "unknown code" in log
    assert stay.code not in page.text
    opened = browser.get(f"/locks/{stay.door.id}?outcome=opened").text.split('id="log"')[1]
    assert "Ada Lovelace" in opened
    assert "unknown code" not in opened
    tomorrow = (clock().date() + timedelta(days=1)).isoformat()
    later = browser.get(f"/locks/{stay.door.id}?since={tomorrow}").text.split('id="log"')[1]
    assert "No openings or attempts recorded." in later


def test_a_bad_log_filter_is_refused_with_its_reason(stay, browser):
    bad = browser.get(f"/locks/{stay.door.id}?outcome=sideways")
    assert bad.status_code == 422
    assert "opened" in bad.text
    worse = browser.get(f"/locks/{stay.door.id}?since=yesterday")
    assert worse.status_code == 422
    assert "is not a date" in worse.text


def test_the_lock_page_draws_the_battery_over_the_last_weeks(stay, clock, browser):
    for percent in (90, 70, 40, 20):
        stay.cloud.set_battery(stay.door.external_id, percent)
        stay.poll()
        clock.advance(days=7)
    page = browser.get(f"/locks/{stay.door.id}").text
    svg = re.search(r'<svg class="battery".*?</svg>', page, re.S)
    assert svg is not None
    assert 'aria-label="Battery of Flat 1A door over 6 weeks: 20 % now"' in svg.group(0)
    assert svg.group(0).count("<circle") == 4
    assert "alert below 25 %" in svg.group(0)
    assert "battery <span" in page


def test_today_shows_who_has_arrived_and_the_locks_to_look_at(stay, clock, browser):
    page = browser.get("/").text
    assert "not arrived yet" in page
    stay.cloud.set_battery(stay.street.external_id, 12)
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    page = browser.get("/").text
    assert "arrived 15:42" in page
    looks = page.split('id="attention"')[1]
    assert "Street door" in looks
    assert "battery 12 %" in looks
    assert "Flat 1A door" not in looks


def test_the_reservation_and_grant_pages_list_the_stays_openings(stay, clock, browser):
    clock.now = at_local(clock().date(), 15, 42)
    stay.cloud.enter(stay.street.external_id, stay.code)
    stay.poll()
    page = browser.get(f"/reservations/{stay.reservation.id}").text
    assert "arrived</span>" in page
    openings = page.split('id="openings"')[1].split("</section>")[0]
    assert "Street door" in openings
    grant = browser.get(f"/grants/{stay.grant_id}").text.split('id="openings"')[1]
    assert "Street door" in grant.split("</section>")[0]


def test_typing_at_the_dashboard_keypad_becomes_an_event(stay, clock, browser):
    clock.now = at_local(clock().date(), 15, 42)
    token = csrf_of(browser, f"/locks/{stay.door.id}")
    typed = browser.post(
        f"/locks/{stay.door.id}/keypad", data={"csrf_token": token, "code": stay.code}
    )
    assert "OPEN" in typed.text
    log = typed.text.split('id="log"')[1]
    assert "Ada Lovelace" in log  # read from the lock at once, without waiting for a pass
    log = browser.get(f"/locks/{stay.door.id}").text.split('id="log"')[1]
    assert "Ada Lovelace" in log
