"""Driving the dashboard in Debian's Chromium: the live server on the demo world, the browser,
and the helpers every browser test shares (screenshots, a reconciler pass, signing in).

One server (uvicorn in a thread) serves the demo world on a fake clock per test module, one
browser serves every test of the module. The lock-sync reconciler does not run by itself:
tests run a pass when they want the locks to catch up, so what the pages show is decided,
not raced. Screenshots, desktop and phone, land in ``build/screenshots``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from doorcode.api.app import create_app
from doorcode.demo_world import ensure_demo_world
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller, Role
from doorcode.services.organisations import resolve_organisation
from doorcode.services.properties import change_property
from doorcode.services.users import create_user
from doorcode.store.repositories import ReservationFilter
from tests.builders import PASSWORD
from tests.conftest import FakeClock, make_runtime
from tests.sync.helpers import reconcile

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
def browser() -> Iterator[Browser]:
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
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="module")
def live(sqlite_template, tmp_path_factory, clock) -> Iterator[tuple[str, Runtime]]:
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
    # The server gets a socket already bound to a free port: a port probed and let go could be
    # taken by another test process before uvicorn binds it.
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield f"http://127.0.0.1:{port}", runtime
    server.should_exit = True
    thread.join(timeout=10)
    listening.close()
    runtime.close()


@pytest.fixture
def page(browser, live) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=live[0])
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def catch_up(runtime) -> None:
    """One reconciler pass, in its own thread (Playwright owns this thread's event loop)."""
    worker = threading.Thread(target=reconcile, args=(runtime,))
    worker.start()
    worker.join(timeout=60)


def shoot(page: Page, name: str, *, phone: bool = False) -> None:
    if phone:
        page.set_viewport_size(PHONE)
    # Written whole, then renamed: tests on other pytest-xdist workers may shoot the same page
    # (the sign-in page) at the same moment, and a reader must never find half of each.
    partial = SHOTS / f".{name}.{os.getpid()}.png"
    partial.write_bytes(page.screenshot(full_page=True))
    partial.replace(SHOTS / f"{name}.png")
    if phone:
        page.set_viewport_size(DESKTOP)


def sign_in(page: Page, shot: str | None = "01-sign-in") -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    if shot:
        shoot(page, shot)
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Today"))).to_be_visible()


def guide_token(runtime, guest: str) -> str:
    """The guidebook token of the demo booking of ``guest``."""
    with runtime.uow() as uow:
        organisation = uow.organisations.by_slug("demo")
        found = [
            reservation
            for reservation in uow.reservations.search(
                organisation.id, ReservationFilter(limit=100)
            )
            if reservation.guest_name == guest
        ]
        return uow.reservations.guide_token_of(found[0])
