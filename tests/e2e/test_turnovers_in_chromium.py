"""Turnover codes and a schedule across the spring change, walked in Chromium on a desktop and
a phone: the host gives the cleaner a code between stays from the property's form, reads it
back on the property and codes pages, and sees which day the clock change moves a night
window. Screenshots land in ``build/screenshots``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browsing import PHONE, shoot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, live):
    context = browser.new_context(viewport=PHONE, base_url=live[0], is_mobile=True, has_touch=True)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    sign_in(opened, shot=None)
    yield opened
    context.close()


def give_turnovers(page: Page, holder: str, hours: str) -> None:
    page.goto("/properties")
    page.get_by_role("link", name="Flat 1A").first.click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label(re.compile("^Who it is for")).fill(holder)
    page.get_by_label("At most (hours)").fill(hours)
    page.get_by_role("button", name="Save").click()


def test_the_host_gives_the_cleaner_turnover_codes_on_a_desktop(page: Page, live):
    sign_in(page, shot=None)
    give_turnovers(page, "Rita (cleaner)", "0")  # a slip: the browser keeps the form
    expect(page).to_have_url(re.compile("/edit$"))
    assert page.get_by_label("At most (hours)").evaluate("e => e.validity.rangeUnderflow")
    page.get_by_label("At most (hours)").fill("6")
    shoot(page, "30-turnover-form")
    page.get_by_role("button", name="Save").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Rita (cleaner), from each check-out to the next check-in")
    expect(facts).to_contain_text("6 h at most")
    shoot(page, "31-turnover-property")
    page.get_by_role("link", name="Codes").first.click()
    expect(page.get_by_text("Rita (cleaner)").first).to_be_visible()
    shoot(page, "32-turnover-codes")


def test_the_host_gives_the_cleaner_turnover_codes_on_a_phone(phone: Page):
    give_turnovers(phone, "Rita (cleaner)", "8")
    expect(phone.locator("dl.facts")).to_contain_text("8 h at most")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "33-turnover-property-phone")
    phone.get_by_role("link", name="Edit").click()
    phone.get_by_label(re.compile("^Who it is for")).fill("")  # turned off again
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator("dl.facts")).to_contain_text("Turnover code")
    expect(phone.locator("dl.facts")).not_to_contain_text("Rita (cleaner)")


def test_a_night_window_the_spring_change_skips_is_made_and_named(page: Page, live):
    sign_in(page, shot=None)
    page.goto("/schedules/new")
    page.get_by_label("Who it is for").fill("Night guard")
    page.get_by_label(re.compile("^Villa Sol")).check()  # Europe/Madrid skips 02:00-03:00
    page.get_by_label("Sun").check()
    page.get_by_label("From").fill("02:15")
    page.get_by_label("Until").fill("02:45")
    page.get_by_label("First day").fill("2027-03-21")
    page.get_by_label("Last day").fill("2027-04-04")
    page.get_by_role("button", name="Create the schedule").click()
    expect(page.get_by_role("heading", name=re.compile("Night guard"))).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(3)  # the skipped day too
    expect(page.get_by_role("status")).to_contain_text(
        "Villa Sol, 2027-03-28: 02:15 does not exist on the clock"
    )
    expect(page.get_by_text("Sun 28 Mar 2027, 03:00 CEST")).to_be_visible()
    shoot(page, "34-schedule-clock-note")
    shoot(page, "34-schedule-clock-note-phone", phone=True)


@pytest.mark.parametrize("width", [800, 1024, 1280, 1440])
def test_on_a_laptop_every_navigation_link_is_in_sight(browser, live, width):
    """At 1280 pixels the owner's last link (Accounts) hid behind the search box, reachable
    only by scrolling a bar that shows no scrollbar."""
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=live[0])
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    try:
        sign_in(opened, shot=None)
        nav = opened.locator("header nav")
        assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), f"links scroll at {width}"
        links = opened.locator("header nav a")
        assert links.count() == 9
        for n in range(links.count()):
            box = links.nth(n).bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width, f"{links.nth(n).inner_text()} at {width}"
        shoot(opened, f"35-navigation-{width}")
    finally:
        context.close()
