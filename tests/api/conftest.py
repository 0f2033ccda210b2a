"""An API client per test, with keys of every role in one organisation (and a stranger's)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorcode.api.app import create_app
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from doorcode.store.models import Base
from tests.builders import make_owner


@dataclass
class Keys:
    owner: dict[str, str]
    manager: dict[str, str]
    viewer: dict[str, str]
    stranger: dict[str, str]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime, client):
    owner = make_owner(runtime, "acme")
    stranger = make_owner(runtime, "other")
    issued = {role: create_api_key(runtime.uow(), owner, role.value, role) for role in Role}
    theirs = create_api_key(runtime.uow(), stranger, "theirs", Role.OWNER)
    found = Keys(
        owner=bearer(issued[Role.OWNER].secret),
        manager=bearer(issued[Role.MANAGER].secret),
        viewer=bearer(issued[Role.VIEWER].secret),
        stranger=bearer(theirs.secret),
    )
    for headers in (found.owner, found.manager, found.viewer, found.stranger):
        client.get("/api/v1/properties", headers=headers)  # settles last_used_at
    return found


def database_dump(runtime) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a rejected request changed nothing."""
    with runtime.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }
