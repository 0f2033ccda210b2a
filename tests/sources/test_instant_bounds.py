"""Stays outside the accepted years through a webhook: refused with a reason, never a 500."""

import json

import pytest

from doorcode.store.models import WebhookDelivery
from tests.sources.conftest import booking, dump_except_deliveries, signed


def post(client, issued, body, clock):
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed(issued, content, clock.now)}
    return client.post(
        f"/webhooks/reservations/{issued.source.id}", content=content, headers=headers
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (booking(check_in="0001-01-01"), "check_in"),
        (booking(check_out="9999-12-31"), "check_out"),
    ],
)
def test_a_webhook_stay_outside_the_accepted_years_is_refused_and_stored(
    client, runtime, world, clock, body, field
):
    before = dump_except_deliveries(runtime)
    answer = post(client, world.generic, body, clock)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["message"]
    assert "2000-01-02 and 2199-12-30" in answer.json()["message"]
    assert dump_except_deliveries(runtime) == before
    with runtime.uow() as uow:
        (stored,) = uow.session.query(WebhookDelivery).all()
        assert stored.outcome == "rejected"
