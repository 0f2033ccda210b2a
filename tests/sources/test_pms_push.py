"""Pushing codes back to the PMS: from audit events to signed POSTs at a real local server."""

import json
import logging
from datetime import date, timedelta

import httpx
import pytest

from doorcode.services.grants import reveal_code, revoke_grant
from doorcode.sources.errors import SignatureRejected
from doorcode.sources.pms_push import MAX_ATTEMPTS, collect_pushes, send_due_pushes
from doorcode.sources.webhook_signature import verify_doorcode
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.models import PushDelivery
from doorcode.store.repositories import EventFilter
from tests.builders import book
from tests.sources.http_server import LocalServer


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


@pytest.fixture
def http():
    with httpx.Client(timeout=2.0) as client:
        yield client


@pytest.fixture
def pushing(runtime, world, server):
    settings = SourceSettings("pms-push", SourceKind.GENERIC, push_url=server.url("/push?k=1"))
    return add_source(runtime.uow(), world.owner, settings)


@pytest.fixture
def booked(runtime, world, pushing):
    outcome = book(
        runtime,
        world.owner,
        world.flat,
        "HX-9",
        date(2026, 12, 4),
        date(2026, 12, 7),
        source="pms-push",
    )
    return outcome.grant


def codes_set(runtime, grant):
    """What lock sync records once every lock holds the grant's current version."""
    with runtime.uow() as uow:
        uow.events.record(
            grant.organisation_id,
            at=uow.now,
            actor="sync",
            kind="GrantCodesSet",
            subject=("grant", grant.id),
            details={"version": grant.version},
        )
        uow.commit()
        which = EventFilter(subject_id=grant.id, kind="GrantCodesSet", limit=1)
        (event,) = uow.events.search(grant.organisation_id, which)
        return event.id


def pushes(runtime):
    with runtime.uow() as uow:
        return list(uow.session.query(PushDelivery).order_by(PushDelivery.created_at))


def run(runtime, http):
    collect_pushes(runtime.uow())
    return send_due_pushes(runtime.uow(), http)


def test_a_grant_whose_codes_are_set_is_pushed_signed_to_its_pms(
    runtime, world, pushing, booked, server, http, caplog
):
    server.set("/push?k=1", b"ok")
    event_id = codes_set(runtime, booked)
    with caplog.at_level(logging.DEBUG, logger="doorcode"):
        assert run(runtime, http) == 1
    (received,) = server.requests_to("/push?k=1")
    proof = verify_doorcode(pushing.push_secret, received.headers, received.body, runtime.clock())
    assert proof.delivery_id.startswith("psh_")
    payload = json.loads(received.body)
    code = reveal_code(runtime.uow(), world.owner, booked.id)
    assert payload == {
        "version": 1,
        "event": "codes_set",
        "event_id": event_id,
        "push_id": proof.delivery_id,
        "reservation_id": booked.reservation_id,
        "reservation_external_id": "HX-9",
        "grant_id": booked.id,
        "grant_version": booked.version,
        "revoked": False,
        "code": code,
        "valid_from": "2026-12-04T15:00:00+00:00",
        "valid_to": "2026-12-07T11:00:00+00:00",
        "locks": [{"id": world.lock.id, "name": "Flat 1 door"}],
    }
    (push,) = pushes(runtime)
    assert (push.status, push.attempts, push.last_status_code) == ("delivered", 1, 200)
    assert code not in caplog.text
    assert code not in repr(vars(push))


def test_the_push_signature_does_not_verify_with_another_secret(
    runtime, pushing, booked, server, http
):
    server.set("/push?k=1", b"ok")
    codes_set(runtime, booked)
    run(runtime, http)
    (received,) = server.requests_to("/push?k=1")
    with pytest.raises(SignatureRejected):
        verify_doorcode(pushing.secret, received.headers, received.body, runtime.clock())


def test_a_server_error_is_retried_later_with_backoff(
    runtime, pushing, booked, server, http, clock
):
    server.set("/push?k=1", b"busy", status=503)
    codes_set(runtime, booked)
    run(runtime, http)
    (push,) = pushes(runtime)
    assert (push.status, push.attempts, push.last_error) == (
        "pending",
        1,
        "HTTP 503 Service Unavailable",
    )
    assert push.next_attempt_at == clock.now + timedelta(seconds=30)
    assert run(runtime, http) == 0  # not due yet
    clock.advance(seconds=31)
    run(runtime, http)
    assert pushes(runtime)[0].next_attempt_at == clock.now + timedelta(seconds=60)
    server.set("/push?k=1", b"ok")
    clock.advance(seconds=61)
    run(runtime, http)
    assert [(p.status, p.attempts) for p in pushes(runtime)] == [("delivered", 3)]
    assert len(server.requests_to("/push?k=1")) == 3


def test_a_client_error_fails_at_once_with_its_status(runtime, pushing, booked, server, http):
    server.set("/push?k=1", b'{"error": "unknown reservation"}', status=400)
    codes_set(runtime, booked)
    run(runtime, http)
    (push,) = pushes(runtime)
    assert (push.status, push.last_error, push.next_attempt_at) == (
        "failed",
        "HTTP 400 Bad Request",
        None,
    )


def test_an_unreachable_pms_is_retried_until_the_attempts_run_out(
    runtime, pushing, booked, server, clock
):
    codes_set(runtime, booked)
    with httpx.Client(timeout=0.05) as http:
        # Answered long after the 0.05 s timeout, even if a busy machine stalls the client.
        server.set("/push?k=1", b"", delay=30.0)
        for _ in range(MAX_ATTEMPTS):
            run(runtime, http)
            clock.advance(hours=2)
    (push,) = pushes(runtime)
    assert (push.status, push.attempts) == ("failed", MAX_ATTEMPTS)
    assert push.last_error == "ReadTimeout: the push URL could not be reached"


def test_a_revoked_grant_is_pushed_without_its_code(runtime, world, pushing, booked, server, http):
    server.set("/push?k=1", b"ok")
    revoke_grant(runtime.uow(), world.owner, booked.id, "guest asked")
    run(runtime, http)
    (received,) = server.requests_to("/push?k=1")
    payload = json.loads(received.body)
    assert (payload["event"], payload["revoked"], payload["code"]) == ("revoked", True, None)


def test_each_event_is_pushed_once_however_often_the_log_is_read(
    runtime, pushing, booked, server, http, clock
):
    server.set("/push?k=1", b"ok")
    codes_set(runtime, booked)
    for _ in range(3):
        run(runtime, http)
    clock.advance(minutes=5)
    run(runtime, http)
    codes_set(runtime, booked)
    run(runtime, http)
    assert [p.event_kind for p in pushes(runtime)] == ["GrantCodesSet", "GrantCodesSet"]
    assert len(server.requests_to("/push?k=1")) == 2


def test_grants_of_sources_without_a_push_url_are_not_pushed(runtime, world, server, http):
    outcome = book(
        runtime, world.owner, world.flat, "HX-1", date(2026, 12, 4), date(2026, 12, 7), source="pms"
    )
    codes_set(runtime, outcome.grant)
    assert run(runtime, http) == 0
    assert pushes(runtime) == []
