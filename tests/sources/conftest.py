"""A world for the source tests: properties named as PMSs know them, one source of each kind."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.sources.webhook_signature import signed_headers
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from tests.api.conftest import database_dump
from tests.builders import make_lock, make_owner, make_property

FIXTURES = Path(__file__).with_name("fixtures")
HOSTAWAY_LISTING = "40160"
GUESTY_LISTING = "59ac245d27cb310f0017afe3"


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class World:
    owner: object
    flat: object
    lock: object
    generic: object
    hostaway: object
    guesty: object


@pytest.fixture
def world(runtime):
    owner = make_owner(runtime, "acme")
    lock = make_lock(runtime, owner, "Flat 1 door")
    flat = make_property(runtime, owner, "Flat 1", locks=[lock], external_id="flat-1")
    make_property(runtime, owner, "Hostaway listing", external_id=HOSTAWAY_LISTING)
    make_property(runtime, owner, "Guesty listing", external_id=GUESTY_LISTING)
    guesty_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return World(
        owner=owner,
        flat=flat,
        lock=lock,
        generic=add_source(runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC)),
        hostaway=add_source(runtime.uow(), owner, SourceSettings("hostaway", SourceKind.HOSTAWAY)),
        guesty=add_source(
            runtime.uow(),
            owner,
            SourceSettings("guesty", SourceKind.GUESTY, signing_secret=guesty_secret),
        ),
    )


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def booking(**changes) -> dict:
    """A generic v1 body for a confirmed stay at flat-1."""
    body = {
        "version": 1,
        "external_id": "HX-1",
        "property": "flat-1",
        "status": "confirmed",
        "check_in": "2026-12-04",
        "check_out": "2026-12-07",
        "guest": {"name": "Ada Lovelace", "email": "ada@example.org", "count": 2},
        "updated_at": "2026-11-20T08:00:00Z",
    }
    return {**body, **changes}


def signed(issued, body: bytes, now: datetime, delivery_id: str | None = None) -> dict:
    return signed_headers(issued.secret, body, now, delivery_id or secrets.token_hex(8))


def svix_headers(secret: str, body: bytes, now: datetime, message_id: str | None = None) -> dict:
    message_id = message_id or f"msg_{secrets.token_hex(8)}"
    timestamp = str(int(now.timestamp()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return {
        "svix-id": message_id,
        "svix-timestamp": timestamp,
        "svix-signature": f"v1,{signature}",
    }


def basic_auth(login: str, password: str) -> dict:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def dump_except_deliveries(runtime) -> dict:
    """Every row of every table but the delivery log: what a refused delivery must not touch."""
    return {
        table: rows
        for table, rows in database_dump(runtime).items()
        if table != "webhook_deliveries"
    }
