"""``POST /webhooks/locks/{account}``: a back-end's pushed events, refused unless signed."""

import hashlib
import hmac
import json
from random import Random

import pytest
from fastapi.testclient import TestClient

from doorcode.api.app import create_app
from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from tests.api.conftest import database_dump
from tests.builders import make_owner
from tests.conftest import TEST_KEY
from tests.locks.fakes import nuki
from tests.locks.fakes.accounts import CREDENTIALS, connect_and_import, registry_on

SECRET = "whsec-nuki-0f1e2d3c"


@pytest.fixture
def nuki_account(sqlite_url, clock, tmp_path):
    cloud = nuki.NukiCloud(clock)
    smartlock = cloud.add_smartlock("Front door", battery=80)
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(
        settings, clock=clock, rng=Random(5), migrate=False, providers=registry_on(cloud)
    )
    owner = make_owner(runtime)
    connect_and_import(runtime, owner, "nuki", {**CREDENTIALS["nuki"], "webhook_secret": SECRET})
    with runtime.uow() as uow:
        [account] = uow.provider_accounts.of_kind(owner.organisation_id, "nuki")
        account_id = account.id
    yield runtime, account_id, smartlock, clock
    runtime.close()


def delivery(smartlock, clock, entry_id="log-1"):
    entry = {"id": entry_id, "smartlockId": smartlock, "action": 1, "trigger": 255, "state": 0}
    entry["date"] = clock.now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps({"feature": "DEVICE_LOGS", "smartlockLog": entry}).encode()


def signed(body, secret=SECRET):
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Nuki-Signature-SHA256": signature, "Content-Type": "application/json"}


def test_a_signed_delivery_is_stored_once_however_often_it_comes(nuki_account):
    runtime, account_id, smartlock, clock = nuki_account
    body = delivery(smartlock, clock)
    with TestClient(create_app(runtime)) as client:
        first = client.post(f"/webhooks/locks/{account_id}", content=body, headers=signed(body))
        again = client.post(f"/webhooks/locks/{account_id}", content=body, headers=signed(body))
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], again.json()["stored"]) == (1, 0)
    assert again.json()["repeated"] == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Nuki-Signature-SHA256": "00"}],
)
def test_an_unsigned_or_wrongly_signed_delivery_is_refused_and_stores_nothing(
    nuki_account, headers
):
    runtime, account_id, smartlock, clock = nuki_account
    body = delivery(smartlock, clock)
    before = database_dump(runtime)
    with TestClient(create_app(runtime)) as client:
        answer = client.post(f"/webhooks/locks/{account_id}", content=body, headers=headers)
        forged = client.post(
            f"/webhooks/locks/{account_id}", content=body, headers=signed(body, "a guess")
        )
    assert (answer.status_code, forged.status_code) == (401, 401)
    assert answer.json()["error"] == "webhook_refused"
    assert SECRET not in answer.text
    assert database_dump(runtime) == before


def test_an_unknown_account_is_not_found(nuki_account):
    runtime, _account_id, smartlock, clock = nuki_account
    body = delivery(smartlock, clock)
    with TestClient(create_app(runtime)) as client:
        answer = client.post("/webhooks/locks/pac_nope", content=body, headers=signed(body))
    assert answer.status_code == 404
