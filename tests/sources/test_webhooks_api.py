"""The generic webhook through the real app: lifecycle, replays, windows, order, bad input."""

import json
from datetime import timedelta

import pytest

from doorcode.services.grants import reveal_code
from doorcode.sources.deliveries import UNPROVEN_BODY_LIMIT
from doorcode.store.models import Grant, Reservation, WebhookDelivery
from tests.builders import make_property
from tests.sources.conftest import booking, dump_except_deliveries, signed


def post(client, issued, body, clock, delivery_id=None, headers=None, raw=None):
    content = raw if raw is not None else json.dumps(body).encode()
    sent = {**signed(issued, content, clock.now, delivery_id), **(headers or {})}
    path = f"/webhooks/reservations/{issued.source.id}"
    return client.post(path, content=content, headers={"Content-Type": "application/json", **sent})


def rows(runtime, model):
    with runtime.uow() as uow:
        return list(uow.session.query(model).order_by(model.__table__.c[0]))


def the_grant(runtime) -> Grant:
    (grant,) = rows(runtime, Grant)
    return grant


def test_a_booking_is_created_moved_and_cancelled_with_the_code_kept(client, runtime, world, clock):
    created = post(client, world.generic, booking(), clock)
    assert created.status_code == 200
    assert created.json()["outcome"] == "accepted"
    assert created.json()["change"] == "created"
    grant = the_grant(runtime)
    code = reveal_code(runtime.uow(), world.owner, grant.id)
    assert grant.starts_at.isoformat() == "2026-12-04T15:00:00+00:00"

    moved = booking(check_out="2026-12-09", updated_at="2026-11-21T08:00:00Z")
    assert post(client, world.generic, moved, clock).json()["change"] == "updated"
    grant = the_grant(runtime)
    assert grant.ends_at.isoformat() == "2026-12-09T11:00:00+00:00"
    assert reveal_code(runtime.uow(), world.owner, grant.id) == code

    gone = booking(status="cancelled", updated_at="2026-11-22T08:00:00Z")
    assert post(client, world.generic, gone, clock).json()["outcome"] == "accepted"
    assert the_grant(runtime).revoked_at is not None
    (reservation,) = rows(runtime, Reservation)
    assert reservation.source == "pms"
    assert reservation.status == "cancelled"


def test_a_retried_delivery_signed_afresh_is_unchanged_and_stores_only_its_record(
    client, runtime, world, clock
):
    post(client, world.generic, booking(), clock, delivery_id="d-1")
    before = dump_except_deliveries(runtime)
    clock.advance(seconds=30)
    again = post(client, world.generic, booking(), clock, delivery_id="d-1")
    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged"
    assert dump_except_deliveries(runtime) == before


def test_the_same_delivery_id_and_timestamp_twice_is_a_replay(client, runtime, world, clock):
    content = json.dumps(booking()).encode()
    first = post(client, world.generic, None, clock, delivery_id="d-1", raw=content)
    assert first.status_code == 200
    before = dump_except_deliveries(runtime)
    replayed = post(client, world.generic, None, clock, delivery_id="d-1", raw=content)
    assert replayed.status_code == 409
    assert replayed.json()["error"] == "replayed_delivery"
    assert dump_except_deliveries(runtime) == before
    outcomes = [(d.outcome, d.reason) for d in rows(runtime, WebhookDelivery)]
    assert sorted(outcomes) == [("accepted", ""), ("rejected", "replayed_delivery")]


@pytest.mark.parametrize("skew", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_deliveries_signed_outside_the_window_are_refused(client, runtime, world, clock, skew):
    content = json.dumps(booking()).encode()
    headers = signed(world.generic, content, clock.now + skew)
    answer = client.post(
        f"/webhooks/reservations/{world.generic.source.id}", content=content, headers=headers
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "timestamp_out_of_window"
    assert rows(runtime, Reservation) == []


def test_an_older_update_after_a_newer_one_is_stale_and_changes_nothing(
    client, runtime, world, clock
):
    newer = booking(check_out="2026-12-09", updated_at="2026-11-21T08:00:00Z")
    older = booking(check_out="2026-12-08", updated_at="2026-11-20T08:00:00Z")
    assert post(client, world.generic, newer, clock).json()["change"] == "created"
    before = dump_except_deliveries(runtime)
    late = post(client, world.generic, older, clock)
    assert late.status_code == 200
    assert late.json()["outcome"] == "stale"
    assert dump_except_deliveries(runtime) == before
    assert the_grant(runtime).ends_at.isoformat() == "2026-12-09T11:00:00+00:00"


def test_a_sequence_orders_updates_when_the_source_has_one(client, runtime, world, clock):
    third = booking(updated_at=None, sequence=3, status="cancelled")
    second = booking(updated_at=None, sequence=2)
    post(client, world.generic, third, clock)
    assert post(client, world.generic, second, clock).json()["outcome"] == "stale"
    (reservation,) = rows(runtime, Reservation)
    assert reservation.status == "cancelled"
    assert reservation.source_version == 3


def without(field):
    body = booking()
    del body[field]
    return body


BAD_INPUT = [
    (booking(property="no-such-flat"), 422, "unknown_property", "property"),
    (booking(check_out="2026-12-01"), 422, "invalid_payload", "check_out: check-out 2026-12-01"),
    (without("external_id"), 422, "invalid_payload", "external_id: Field required"),
    (without("check_in"), 422, "invalid_payload", "check_in: Field required"),
    (booking(check_in=20261204), 422, "invalid_payload", "check_in: Input should be a valid date"),
    (booking(guest={"count": "two"}), 422, "invalid_payload", "guest.count"),
    (booking(status="maybe"), 422, "invalid_payload", "status"),
    (booking(version=2), 422, "invalid_payload", "version"),
    (booking(surprise=True), 422, "invalid_payload", "surprise"),
    (booking(check_out="2026-12-04", check_out_time="10:00"), 422, "invalid_window", "check-out"),
    (booking(updated_at="2026-11-20T08:00:00"), 422, "invalid_payload", "updated_at"),
    ([booking()], 422, "invalid_payload", "JSON object"),
]


@pytest.mark.parametrize(("body", "status", "error", "says"), BAD_INPUT)
def test_bad_input_is_refused_with_a_reason_stored_and_changes_nothing_else(
    client, runtime, world, clock, body, status, error, says
):
    before = dump_except_deliveries(runtime)
    answer = post(client, world.generic, body, clock)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert says in answer.json()["message"]
    assert dump_except_deliveries(runtime) == before
    (stored,) = rows(runtime, WebhookDelivery)
    assert (stored.id, stored.outcome, stored.reason) == (
        answer.json()["delivery_id"],
        "rejected",
        error,
    )


def test_non_json_is_refused_and_stored(client, runtime, world, clock):
    before = dump_except_deliveries(runtime)
    answer = post(client, world.generic, None, clock, raw=b'{"version": 1, "external_id":')
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_json")
    assert dump_except_deliveries(runtime) == before
    assert rows(runtime, WebhookDelivery)[0].body == b'{"version": 1, "external_id":'


def test_a_body_over_one_mebibyte_is_refused_and_stored_without_its_body(
    client, runtime, world, clock
):
    before = dump_except_deliveries(runtime)
    huge = json.dumps(booking(guest={"name": "x" * (1024 * 1024)})).encode()
    answer = post(client, world.generic, None, clock, raw=huge)
    assert answer.status_code == 413
    assert answer.json()["error"] == "body_too_large"
    assert dump_except_deliveries(runtime) == before
    (stored,) = rows(runtime, WebhookDelivery)
    assert (stored.reason, stored.body, stored.authenticated) == ("body_too_large", b"", False)


def test_a_forged_request_is_stored_cut_short_and_cannot_claim_a_genuine_delivery_id(
    client, runtime, world, clock
):
    path = f"/webhooks/reservations/{world.generic.source.id}"
    padded = json.dumps(booking(padding="y" * 40_000)).encode()
    forged = signed(world.generic, padded, clock.now, "d-1")
    forged["X-Doorcode-Signature"] = "sha256=" + "f" * 64
    answer = client.post(path, content=padded, headers=forged)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_signature")
    (stored,) = rows(runtime, WebhookDelivery)
    assert (len(stored.body), stored.body_size) == (UNPROVEN_BODY_LIMIT, len(padded))
    assert stored.headers["x-doorcode-signature"] == "***"
    assert stored.replay_key is None
    genuine = post(client, world.generic, booking(), clock, delivery_id="d-1")
    assert genuine.json()["outcome"] == "accepted"


def test_an_unknown_source_is_not_found_and_nothing_is_stored(client, runtime, world, clock):
    before = dump_except_deliveries(runtime)
    answer = client.post("/webhooks/reservations/src_nope", content=b"{}")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
    assert dump_except_deliveries(runtime) == before
    assert rows(runtime, WebhookDelivery) == []


def test_the_openapi_spec_describes_the_generic_body(client):
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/webhooks/reservations/{source_id}"]["post"]
    schema = route["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ReservationPayloadV1"}
    payload = spec["components"]["schemas"]["ReservationPayloadV1"]
    assert {"version", "external_id", "property", "status", "check_in", "guest"} <= set(
        payload["properties"]
    )
    assert "GuestV1" in spec["components"]["schemas"]


def test_a_property_named_by_a_name_two_share_is_refused_naming_both(client, runtime, world, clock):
    # Was an internal error (500, recorded as doorcode's failure) once names could be shared.
    twin = make_property(runtime, world.owner, "Flat 1", locks=[], external_id="flat-1-annex")
    before = dump_except_deliveries(runtime)
    answer = post(client, world.generic, booking(property="Flat 1"), clock)
    assert answer.status_code == 422
    assert answer.json()["error"] == "ambiguous_property"
    assert world.flat.id in answer.json()["message"]
    assert twin.id in answer.json()["message"]
    assert dump_except_deliveries(runtime) == before
    (stored,) = rows(runtime, WebhookDelivery)
    assert (stored.outcome, stored.reason) == ("rejected", "ambiguous_property")
