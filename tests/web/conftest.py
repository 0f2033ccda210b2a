"""A browser-like client per test, an organisation with users of every role, and a stranger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.services.caller import Caller, Role
from doorcode.store.models import Property, Reservation
from tests.builders import (
    PASSWORD,
    book,
    guide_token_of,
    make_owner,
    make_property,
    make_user,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    owner: Caller
    flat: Property
    stay: Reservation
    grant_id: str
    stranger: Caller
    their_stay: Reservation
    stay_token: str
    their_token: str


@pytest.fixture
def app(runtime):
    return create_app(runtime)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def world(runtime, clock) -> World:
    """Acme with a flat whose guest arrives today (clock: Mon 23 Nov 2026, 09:00 UTC)."""
    owner = make_owner(runtime, "acme")
    for role in Role:
        make_user(runtime, owner, role.value, role)
    flat = make_property(runtime, owner, "Flat 1", time_zone="Europe/Lisbon")
    booked = book(runtime, owner, flat, "B-1", date(2026, 11, 23), date(2026, 11, 26))
    stranger = make_owner(runtime, "other")
    make_user(runtime, stranger, "mallory", Role.OWNER)
    theirs = make_property(runtime, stranger, "Their villa")
    their_booking = book(
        runtime, stranger, theirs, "T-1", date(2026, 11, 23), date(2026, 11, 25), guest="Eve Other"
    )
    assert booked.grant is not None
    return World(
        owner,
        flat,
        booked.reservation,
        booked.grant.id,
        stranger,
        their_booking.reservation,
        guide_token_of(runtime, booked.reservation),
        guide_token_of(runtime, their_booking.reservation),
    )


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The form token a page of ``path`` carries."""
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found, f"no form token on {path}: {page.status_code}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next: str = "/"):
    """Sign in through the form, as a browser would; returns the POST's answer."""
    token = csrf_of(client, "/sign-in")
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": next},
        follow_redirects=False,
    )


@pytest.fixture
def signed_in(client, world):
    """The client, signed in as the owner."""
    assert sign_in(client, "owner").status_code == 303
    return client
