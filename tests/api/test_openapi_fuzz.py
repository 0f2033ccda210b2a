"""Schemathesis against our own OpenAPI description: no input makes the API fail with a 5xx.

Each operation gets generated requests (valid and invalid) with an owner's key; every answer
must be a documented, non-5xx response whose body matches its schema, and invalid requests
must be refused. Schema-valid requests may still be refused (an unknown time zone, a
check-out before check-in): those rules live beyond what a JSON schema can say.
"""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from doorcode.api.app import create_app
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Role
from tests.builders import book, make_owner, make_property


@pytest.fixture
def api_schema(runtime, clock):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", external_id="flat")
    book(runtime, owner, flat, "B-1", clock.now.date(), clock.now.date().replace(day=28))
    key = create_api_key(runtime.uow(), owner, "fuzz", Role.OWNER).secret
    app = create_app(runtime)
    TestClient(app).get("/healthz")
    return schemathesis.openapi.from_asgi("/openapi.json", app), {"Authorization": f"Bearer {key}"}


SHARDS = 4
"""The operations, in the description's order, are fuzzed in this many consecutive runs of
one test, so that pytest-xdist spreads them over the cores and no one test nears the time
limit on a loaded machine. Each operation gets the same derandomized cases as when one test
did them all; neighbours (``POST /x`` then ``GET /x/{id}``) mostly stay in one run."""


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_request_makes_the_api_fail(api_schema, shard):
    # Driven by hand: schemathesis' pytest plugin does not support this pytest release.
    loaded, headers = api_schema
    operations = [found.ok() for found in loaded.get_all_operations()]
    size = -(-len(operations) // SHARDS)
    mine = operations[shard * size : (shard + 1) * size]
    assert mine, f"{len(operations)} operations leave shard {shard} empty: lower SHARDS"
    for operation in mine:

        @settings(
            max_examples=30,
            database=None,
            derandomize=True,  # the same cases every run: CI must not turn red by luck
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def answers_without_failing(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        answers_without_failing()


def test_every_paging_parameter_has_an_upper_bound(runtime):
    spec = create_app(runtime).openapi()
    unbounded = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["name"] in ("offset", "limit") and "maximum" not in parameter["schema"]
    ]
    assert unbounded == []
