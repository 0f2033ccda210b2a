"""The pages in a real browser: Debian's Chromium, driven by Playwright, against a live server.

The server, the browser and the helpers are in ``browsing.py``. Screenshots of the main pages,
desktop and phone, land in ``build/screenshots``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from doorcode.store.models import Grant
from doorcode.sync.access_poller import poll_access
from tests.e2e.browsing import PHONE, START, catch_up, guide_token, shoot, sign_in

# One live server and one browser per module, and its tests share the world they change:
# under pytest-xdist the whole module runs on one worker, in order.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("pages_in_chromium")]


def code_of(runtime, grant_id: str) -> str:
    with runtime.uow() as uow:
        return uow.grants.code_of(uow.session.get(Grant, grant_id))


def test_an_operator_works_through_todays_arrival(page, live):
    _base, runtime = live
    sign_in(page)
    arrivals = page.locator("section", has=page.get_by_role("heading", name=re.compile("Arrivals")))
    expect(arrivals).to_contain_text("Sofia Rossi")
    expect(arrivals).to_contain_text("Flat 2B door set")
    shoot(page, "02-today")
    shoot(page, "02-today-phone", phone=True)

    page.get_by_role("link", name="Sofia Rossi").click()
    expect(page.get_by_role("heading", name=re.compile("Sofia Rossi"))).to_be_visible()
    shoot(page, "03-reservation")
    page.get_by_role("button", name="Reveal code").first.click()
    grant_id = page.locator(".grant").first.get_attribute("id").removeprefix("grant-")
    code = code_of(runtime, grant_id)
    expect(page.locator("code.code").first).to_have_text(code)
    expect(page.get_by_text("Guidebook link")).to_be_visible()
    shoot(page, "04-reservation-code-revealed")

    page.locator(f"#grant-{grant_id}").get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke this code?")).to_be_visible()
    page.get_by_label("Reason").fill("the guest shared the code")
    shoot(page, "05-revoke-confirm")
    page.get_by_role("button", name="Revoke the code").click()
    card = page.locator(f"#grant-{grant_id}")
    expect(card.locator("tr", has_text="Flat 2B door")).to_contain_text("removing")
    catch_up(runtime)
    page.reload()
    expect(card.locator("tr", has_text="Flat 2B door")).to_contain_text("removed")
    expect(card).to_contain_text("revoked")
    shoot(page, "06-reservation-revoked")


def test_an_operator_creates_a_staff_code_and_opens_the_timeline(page, live):
    sign_in(page)
    page.get_by_role("link", name="Codes").click()
    page.get_by_role("link", name="New code").click()
    page.get_by_label("staff").check()
    page.get_by_label("Who it is for").fill("Bruno (handyman)")
    page.get_by_label("Property (all its locks)").select_option(label="Villa Sol (Europe/Madrid)")
    page.get_by_label("From").fill("2026-11-24T09:00")
    page.get_by_label("Until").fill("2026-11-24T13:00")
    shoot(page, "07-new-staff-code")
    page.get_by_role("button", name="Create the code").click()
    expect(page.get_by_role("heading", name=re.compile("Bruno \\(handyman\\)"))).to_be_visible()
    expect(page.locator(".lockcodes")).to_contain_text("Villa Sol back door")
    expect(page.get_by_text("Tue 24 Nov 09:00")).to_be_visible()

    page.get_by_role("link", name="Timeline").click()
    chart = page.get_by_role("img", name=re.compile("Timeline of Villa Sol"))
    expect(chart).to_be_visible()
    expect(chart.locator("a[href^='/grants/'] title", has_text="Bruno (handyman)")).to_have_count(1)
    expect(page.locator("svg.timeline line.now").first).to_be_attached()
    shoot(page, "08-timeline")
    shoot(page, "08-timeline-phone", phone=True)
    page.get_by_role("link", name="Villa Sol").first.click()
    expect(page.get_by_role("img", name=re.compile("Timeline of Villa Sol"))).to_be_visible()
    shoot(page, "09-property")
    page.get_by_role("link", name="Villa Sol front door").first.click()
    expect(page.get_by_role("heading", name="Try the keypad")).to_be_visible()
    shoot(page, "10-lock")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="GrantCreated").first).to_be_visible()
    shoot(page, "11-audit-log")


def test_a_guest_sees_when_the_code_comes_then_the_code_then_a_thank_you(browser, live, clock):
    base, runtime = live
    phone = browser.new_context(viewport=PHONE, base_url=base, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"/guide/{guide_token(runtime, 'Lucas Martin')}")  # arrives in 15 days
        expect(page.get_by_text("O seu código aparece aqui em")).to_be_visible()  # pt-BR
        expect(page.locator("code.code")).to_have_count(0)
        shoot(page, "12-guide-before-reveal")

        page.goto(f"/guide/{guide_token(runtime, 'Inês Carvalho')}")  # staying now
        expect(page.get_by_role("heading", name="Flat 1A")).to_be_visible()
        expect(page.locator("li", has_text="Flat 1A door").locator("code.code")).to_be_visible()
        shoot(page, "13-guide-during-stay")
        # Her first opening of the street door yesterday marked her arrived: no button left.
        # Inês reads Portuguese.
        expect(page.get_by_text(re.compile("chegou às .*15:38"))).to_be_visible()
        expect(page.get_by_role("button", name="Já cheguei")).to_have_count(0)
        page.get_by_role("button", name="O meu código não funciona").click()  # Flat 1A keeps one
        expect(page.get_by_role("status")).to_have_text(
            "Avisámos o anfitrião. Experimente o código de reserva abaixo."
        )
        backup = page.locator(".backup li", has_text="Flat 1A door").locator("code.code")
        expect(backup).to_have_text(re.compile(r"^\d{6}$"))
        expect(page.get_by_role("link", name="Ligar +351 210 000 000")).to_be_visible()
        shoot(page, "14-guide-code-problem")

        clock.now = START + timedelta(days=3)  # after Inês's check-out
        page.reload()
        expect(page.get_by_text("A sua estadia terminou a")).to_be_visible()
        expect(page.locator("code.code")).to_have_count(0)
        shoot(page, "15-guide-after-check-out")
        page.goto("/guide/no-such-link-0123456789abcdef")
        expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    finally:
        clock.now = START
        phone.close()


def access_pass(runtime) -> None:
    """One access pass (events and health from the locks), in its own thread like a sync."""
    worker = threading.Thread(target=lambda: asyncio.run(poll_access(runtime)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the access pass did not finish within 60 s"


def test_an_operator_sees_who_opened_which_door_and_which_battery_to_change(page, live):
    _base, runtime = live
    sign_in(page)
    looks = page.locator("section", has=page.get_by_role("heading", name=re.compile("Locks to")))
    expect(looks).to_contain_text("Villa Sol front door: battery 18 %")
    expect(looks).to_contain_text("The Schmidt family")
    arrivals = page.locator("section", has=page.get_by_role("heading", name=re.compile("Arrivals")))
    expect(arrivals).to_contain_text("not arrived yet")
    shoot(page, "16-today-arrivals-and-locks")

    page.get_by_role("link", name="Locks").click()
    page.get_by_role("link", name="Flat 1A door").first.click()
    log = page.locator("section", has=page.get_by_role("heading", name="Access log"))
    expect(log).to_contain_text("Inês Carvalho")
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Enter").click()
    expect(page.get_by_role("status")).to_contain_text("REFUSED")
    access_pass(runtime)
    page.reload()
    expect(log).to_contain_text("unknown code")
    log.get_by_label("Show").select_option("refused")
    log.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"outcome=refused"))
    expect(log).to_contain_text("unknown code")
    expect(log).not_to_contain_text("Inês Carvalho")
    shoot(page, "17-lock-access-log")

    page.goto("/locks")
    page.get_by_role("link", name="Villa Sol front door").first.click()
    battery = page.get_by_role("img", name=re.compile("Battery of Villa Sol front door"))
    expect(battery).to_have_attribute("aria-label", re.compile("18 % now"))
    expect(battery.locator("circle")).to_have_count(7)
    shoot(page, "18-lock-battery")
