"""Bookings and the daily pages in Chromium, desktop and phone: an operator adds, changes and
cancels a booking, fixes the contact of a booking that came without one, searches, and reads
the pages on a phone without sideways scrolling. Screenshots land in ``build/screenshots``."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect

from doorcode.notify.outbox import process_outbox
from tests.e2e.browsing import PHONE, guide_token, shoot, sign_in

# One live server and one browser per module, and its tests share the world they change:
# under pytest-xdist the whole module runs on one worker, in order.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("bookings_in_chromium")]

LISTS = ["/", "/reservations", "/codes", "/properties", "/locks", "/audit", "/search?q=flat"]


def test_an_operator_adds_changes_and_cancels_a_booking(page: Page, live):
    sign_in(page, shot=None)
    page.get_by_role("link", name="Reservations").click()
    page.get_by_role("link", name="New booking").click()
    page.get_by_label("Property").select_option(label="Villa Sol (Europe/Madrid)")
    page.get_by_label("Check-in date").fill("2026-12-10")
    page.get_by_label("Check-out date").fill("2026-12-08")  # a slip of the finger
    page.get_by_label("Guest name").fill("Rui Costa")
    page.get_by_label("Email").fill("rui@example.pt")
    page.get_by_role("button", name="Add the booking").click()
    expect(page.get_by_role("alert")).to_have_text("check-out date is before check-in date")
    expect(page.get_by_label("Guest name")).to_have_value("Rui Costa")
    expect(page.get_by_text("on Villa Sol's clock: Europe/Madrid")).to_be_visible()
    shoot(page, "20-new-booking-error")
    shoot(page, "20-new-booking-error-phone", phone=True)

    page.get_by_label("Check-out date").fill("2026-12-13")
    page.get_by_label("Check-in time").fill("17:30")
    page.get_by_role("button", name="Add the booking").click()
    expect(page.get_by_role("heading", name=re.compile("Rui Costa"))).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Thu 10 Dec 2026, 17:30 CET")
    expect(page.locator(".grant").first).to_contain_text("Villa Sol front door")
    shoot(page, "21-booking-added")

    page.get_by_role("link", name="Change booking").click()
    page.get_by_label("Check-out date").fill("2026-12-14")
    page.get_by_label("Phone").fill("+351 912 345 678")
    page.get_by_role("button", name="Save the booking").click()
    expect(facts).to_contain_text("Mon 14 Dec 2026, 11:00 CET")
    expect(facts).to_contain_text("rui@example.pt · +351 912 345 678")

    page.get_by_role("link", name="Cancel booking").click()
    expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    page.get_by_label("Reason").fill("the guest changed plans")
    shoot(page, "22-cancel-booking")
    page.get_by_role("button", name="Cancel the booking").click()
    expect(page.get_by_role("heading", name=re.compile("Rui Costa"))).to_contain_text("cancelled")
    expect(page.locator(".grant").first).to_contain_text("revoked")


def plan_messages(runtime) -> None:
    """One pass of the message planner (it raises and clears the "unreachable" alert)."""
    worker = threading.Thread(target=process_outbox, args=(runtime.uow,))
    worker.start()
    worker.join(timeout=60)


def test_an_operator_adds_the_contact_a_booking_came_without(page: Page, live):
    _base, runtime = live
    plan_messages(runtime)
    sign_in(page, shot=None)
    page.get_by_role("link", name="Reservations").click()
    page.get_by_label("Guest").fill("Noah Kim")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Noah Kim").click()
    page.get_by_role("link", name="Add contact details").click()
    expect(page.get_by_role("heading", name="Change booking")).to_be_visible()
    page.get_by_label("Email").fill("noah@example.org")
    page.get_by_role("button", name="Save the booking").click()
    expect(page.locator("dl.facts")).to_contain_text("noah@example.org · no phone")
    plan_messages(runtime)
    page.reload()
    expect(page.get_by_role("link", name="Add contact details")).to_have_count(0)
    shoot(page, "23-contact-added")


def test_search_finds_guests_bookings_and_properties(page: Page, live):
    sign_in(page, shot=None)
    page.get_by_role("searchbox", name="Search").fill("rossi")
    page.keyboard.press("Enter")
    found = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Reservations"))
    )
    expect(found.get_by_role("link", name="Sofia Rossi")).to_be_visible()
    page.get_by_role("searchbox", name="Search").first.fill("augusta")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Flat 1A")).to_be_visible()
    expect(page.get_by_role("link", name="Flat 2B")).to_be_visible()
    shoot(page, "24-search")
    shoot(page, "24-search-phone", phone=True)


def test_the_past_stays_checkbox_sits_beside_its_label(page: Page, live):
    sign_in(page, shot=None)
    page.goto("/reservations")
    box = page.get_by_label("Include past stays").bounding_box()
    text = page.evaluate(
        """() => {
            const label = [...document.querySelectorAll('label.check')]
                .find(l => l.textContent.includes('Include past stays'));
            const range = document.createRange();
            range.selectNodeContents(label.lastChild);
            return range.getBoundingClientRect().left;
        }"""
    )
    gap = text - (box["x"] + box["width"])
    assert box["width"] <= 24, f"the checkbox takes {box['width']:.0f} px, its box drawn mid-way"
    assert 0 <= gap <= 12, f"{gap:.0f} px between the checkbox and its label"


@pytest.fixture
def phone(browser, live):
    context = browser.new_context(viewport=PHONE, base_url=live[0], is_mobile=True, has_touch=True)
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    sign_in(opened, shot=None)
    yield opened
    context.close()


@pytest.mark.parametrize("path", LISTS)
def test_on_a_phone_the_navigation_stays_on_one_line(phone: Page, path):
    phone.goto(path)
    links = phone.locator("header nav a")
    tops = {round(links.nth(n).bounding_box()["y"]) for n in range(links.count())}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines on {path}"


@pytest.mark.parametrize("path", LISTS)
def test_on_a_phone_no_page_or_table_scrolls_sideways(phone: Page, path):
    phone.goto(path)
    overflow = phone.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('main *')]
            .filter(e => e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1
                    && getComputedStyle(e).overflowX !== 'visible'
                    && !e.closest('.timeline-scroll'))
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert overflow == [], f"{path} scrolls sideways in {overflow}"
    name = path.strip("/").replace("?q=", "-") or "today"
    shoot(phone, f"25-phone-{name}")


def test_an_operator_reads_the_demo_cleaner_and_schedules_a_gardener(page: Page, live):
    sign_in(page, shot=None)
    page.get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("link", name="Marta (cleaner)")).to_be_visible()
    expect(page.locator("tr", has_text="Marta (cleaner)")).to_contain_text("Flat 1A, Flat 2B")
    page.get_by_role("link", name="New schedule").click()
    page.get_by_label("Who it is for").fill("Jorge (gardener)")
    page.get_by_label(re.compile("^Villa Sol")).check()
    page.get_by_label("Thu").check()
    page.get_by_label("From").fill("07:00")
    page.get_by_label("Until").fill("09:00")
    page.get_by_label("First day").fill("2027-03-18")
    page.get_by_label("Last day").fill("2027-04-08")
    page.get_by_label(re.compile("^Days off")).fill("2027-04-01")
    shoot(page, "26-new-schedule")
    page.get_by_role("button", name="Create the schedule").click()
    expect(page.get_by_role("heading", name=re.compile("Jorge \\(gardener\\)"))).to_be_visible()
    windows = page.locator("table tbody tr")
    expect(windows).to_have_count(3)  # four Thursdays less the day off
    expect(page.get_by_text("Thu 18 Mar 2027, 07:00 CET")).to_be_visible()
    expect(page.get_by_text("Thu 08 Apr 2027, 07:00 CEST")).to_be_visible()
    shoot(page, "27-schedule")
    shoot(page, "27-schedule-phone", phone=True)
    page.get_by_label(re.compile("^Revoke every window")).fill("the garden is done")
    page.get_by_role("button", name="Revoke the schedule").click()
    expect(page.get_by_role("heading", name=re.compile("Jorge"))).to_contain_text("revoked")


def test_the_host_edits_the_guidebook_and_the_guest_reads_it_on_a_phone(browser, page, live):
    base, runtime = live
    sign_in(page, shot=None)
    page.goto("/properties")
    page.get_by_role("link", name="Flat 2B").first.click()
    page.get_by_role("link", name="Guidebook").click()
    page.get_by_label("Parking").fill("Garage **Parque Baixa**, level -2 <script>alert(1)</script>")
    shoot(page, "28-guidebook-form")
    page.get_by_role("button", name="Save the guidebook").click()
    expect(page.get_by_role("heading", name="Flat 2B")).to_be_visible()

    phone = browser.new_context(viewport=PHONE, base_url=base, is_mobile=True, has_touch=True)
    guest = phone.new_page()
    guest.set_default_timeout(10_000)
    try:
        guest.goto(f"/guide/{guide_token(runtime, 'Sofia Rossi')}")  # Italian, staying now
        expect(guest.get_by_role("heading", name="Il tuo codice della porta")).to_be_visible()
        expect(guest.get_by_role("heading", name="Parcheggio")).to_be_visible()
        expect(guest.locator("section", has_text="Parcheggio").locator("strong")).to_have_text(
            "Parque Baixa"
        )
        expect(guest.get_by_text("Second floor, on the right.")).to_be_visible()
        expect(guest.get_by_role("heading", name="Wi-Fi")).to_be_visible()
        assert guest.locator("script").count() == 0
        shoot(guest, "29-guidebook-guest-phone")
    finally:
        phone.close()
