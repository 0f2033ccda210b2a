"""API keys: no key, a wrong key or a revoked one gets 401 and nothing else."""

import pytest

from tests.api.conftest import bearer


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("dck_nothere_nothing"),
        bearer("not-a-key"),
        {"X-API-Key": "dck__"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
)
def test_requests_without_a_valid_key_get_401(client, keys, headers):
    answer = client.get("/api/v1/properties", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_key_with_a_wrong_secret_is_refused(client, keys):
    scheme, prefix, _secret = keys.owner["Authorization"].removeprefix("Bearer ").split("_", 2)
    forged = bearer(f"{scheme}_{prefix}_{'A' * 43}")
    assert client.get("/api/v1/properties", headers=forged).status_code == 401


def test_the_x_api_key_header_works_too(client, keys):
    secret = keys.owner["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/properties", headers={"X-API-Key": secret}).status_code == 200


def test_openapi_and_health_need_no_key(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/reservations" in spec["paths"]
    assert client.get("/healthz").json()["status"] == "ok"
