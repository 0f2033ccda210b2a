"""The pages in a real browser: Debian's Chromium, driven by Playwright, against a live server.

One server (uvicorn in a thread) serves the demo world on a fake clock, one browser serves
every test. The lock-sync reconciler does not run by itself here: the tests run a pass
when they want the locks to catch up, so what the pages show is decided, not raced.
Screenshots of the main pages, desktop and phone, land in ``build/screenshots``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from doorcode.api.app import create_app
from doorcode.demo_world import ensure_demo_world
from doorcode.services.caller import Caller, Role
from doorcode.services.organisations import resolve_organisation
from doorcode.services.properties import change_property
from doorcode.services.users import create_user
from doorcode.store.models import Grant
from doorcode.sync.access_poller import poll_access
from tests.builders import PASSWORD
from tests.conftest import FakeClock, make_runtime
from tests.sync.helpers import reconcile

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("DOORCODE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Debian's chromium is not at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium), or set DOORCODE_CHROMIUM to its path"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def clock():
    return FakeClock(START)


@pytest.fixture(scope="module")
def live(sqlite_template, tmp_path_factory, clock):
    """The demo world served on a free port; yields (base URL, runtime)."""
    folder = tmp_path_factory.mktemp("pages")
    shutil.copy(sqlite_template, folder / "doorcode.sqlite3")
    runtime = make_runtime(f"sqlite:///{folder / 'doorcode.sqlite3'}", clock, folder)
    runtime.settings.console_messages = True
    ensure_demo_world(runtime)
    organisation = resolve_organisation(runtime.uow(), "demo")
    owner = Caller(organisation.id, "test", Role.OWNER)
    create_user(runtime.uow(), owner, "olivia", PASSWORD, Role.OWNER)
    change_property(runtime.uow(), owner, "augusta-1a", {"backup_codes": True})  # Inês's flat
    catch_up(runtime)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield f"http://127.0.0.1:{port}", runtime
    server.should_exit = True
    thread.join(timeout=10)
    runtime.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport=DESKTOP, base_url=live[0])
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def catch_up(runtime) -> None:
    """One reconciler pass, in its own thread (Playwright owns this thread's event loop)."""
    worker = threading.Thread(target=reconcile, args=(runtime,))
    worker.start()
    worker.join(timeout=60)


def shoot(page: Page, name: str, *, phone: bool = False) -> None:
    if phone:
        page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if phone:
        page.set_viewport_size(DESKTOP)


def code_of(runtime, grant_id: str) -> str:
    with runtime.uow() as uow:
        return uow.grants.code_of(uow.session.get(Grant, grant_id))


def guide_token(runtime, guest: str) -> str:
    with runtime.uow() as uow:
        organisation = uow.organisations.by_slug("demo")
        found = [
            reservation
            for reservation in uow.reservations.search(organisation.id, _all())
            if reservation.guest_name == guest
        ]
        return uow.reservations.guide_token_of(found[0])


def _all():
    from doorcode.store.repositories import ReservationFilter

    return ReservationFilter(limit=100)


def sign_in(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    shoot(page, "01-sign-in")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Today"))).to_be_visible()


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
        expect(page.get_by_text("Your code will appear here on")).to_be_visible()
        expect(page.locator("code.code")).to_have_count(0)
        shoot(page, "12-guide-before-reveal")

        page.goto(f"/guide/{guide_token(runtime, 'Inês Carvalho')}")  # staying now
        expect(page.get_by_role("heading", name="Flat 1A")).to_be_visible()
        expect(page.locator("li", has_text="Flat 1A door").locator("code.code")).to_be_visible()
        shoot(page, "13-guide-during-stay")
        # Her first opening of the street door yesterday marked her arrived: no button left.
        expect(page.get_by_text("arrived at Sun 22 Nov 15:38")).to_be_visible()
        expect(page.get_by_role("button", name="I have arrived")).to_have_count(0)
        page.get_by_role("button", name="My code does not work").click()  # Flat 1A keeps one
        expect(page.get_by_role("status")).to_have_text(
            "We told your host. Please try the backup code below."
        )
        backup = page.locator(".backup li", has_text="Flat 1A door").locator("code.code")
        expect(backup).to_have_text(re.compile(r"^\d{6}$"))
        expect(page.get_by_role("link", name="Call +351 210 000 000")).to_be_visible()
        shoot(page, "14-guide-code-problem")

        clock.now = START + timedelta(days=3)  # after Inês's check-out
        page.reload()
        expect(page.get_by_text("Your stay ended on")).to_be_visible()
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
