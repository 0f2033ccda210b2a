"""Deliveries and feeds on SQLite and PostgreSQL: ordering, replays and races hold on both."""

import json
import threading
from datetime import date, timedelta

import pytest

from doorcode.sources.deliveries import DeliveryRefused, InboundRequest, receive_delivery
from doorcode.sources.ical_feeds import (
    FeedPolicy,
    FeedSettings,
    add_feed,
    feed_client,
    sync_feed,
)
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.models import Grant, Reservation, WebhookDelivery
from tests.builders import make_owner, make_property
from tests.sources.conftest import booking, signed
from tests.sources.http_server import LocalServer
from tests.sources.test_ical_feeds import airbnb


@pytest.fixture
def owner(any_runtime):
    owner = make_owner(any_runtime, "acme")
    make_property(any_runtime, owner, "Flat 1", external_id="flat-1")
    return owner


@pytest.fixture
def source(any_runtime, owner):
    return add_source(any_runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))


def request(source, body, now, delivery_id=None):
    content = json.dumps(body).encode()
    headers = signed(source, content, now, delivery_id)
    return InboundRequest(content, {name.lower(): value for name, value in headers.items()})


def rows(runtime, model):
    with runtime.uow() as uow:
        return uow.session.query(model).all()


def test_created_then_stale_then_replayed(any_runtime, owner, source, clock):
    newer = request(source, booking(updated_at="2026-11-21T08:00:00Z"), clock.now, "d-2")
    older = request(source, booking(check_out="2026-12-05"), clock.now, "d-1")
    assert receive_delivery(any_runtime.uow(), source.source.id, newer).delivery.outcome == (
        "accepted"
    )
    assert receive_delivery(any_runtime.uow(), source.source.id, older).delivery.outcome == "stale"
    with pytest.raises(DeliveryRefused) as refused:
        receive_delivery(any_runtime.uow(), source.source.id, newer)
    assert refused.value.error.reason == "replayed_delivery"
    (reservation,) = rows(any_runtime, Reservation)
    assert reservation.check_out == date(2026, 12, 7)


def test_concurrent_deliveries_of_one_new_booking_end_at_the_newest_version(
    any_runtime, owner, source, clock
):
    """Twins racing to create the same reservation queue behind each other instead of failing."""
    versions = [
        request(
            source,
            booking(check_out=f"2026-12-{7 + n:02d}", updated_at=f"2026-11-20T08:{n:02d}:00Z"),
            clock.now,
        )
        for n in range(8)
    ]
    errors = []

    def send(inbound):
        try:
            receive_delivery(any_runtime.uow(), source.source.id, inbound)
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=send, args=(inbound,)) for inbound in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (reservation,) = rows(any_runtime, Reservation)
    assert reservation.check_out == date(2026, 12, 14)
    assert len(rows(any_runtime, Grant)) == 1
    outcomes = sorted(d.outcome for d in rows(any_runtime, WebhookDelivery))
    assert outcomes.count("accepted") >= 1
    assert set(outcomes) <= {"accepted", "stale"}


def test_a_delivery_of_another_booking_goes_ahead_while_one_is_being_applied(
    any_runtime, owner, source, clock
):
    """Deliveries queue per booking, not per source: a slow one holds up only its twins."""
    if any_runtime.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: there every delivery queues")
    other = request(
        source,
        booking(external_id="HX-2", check_in="2026-12-10", check_out="2026-12-12"),
        clock.now,
    )
    results = []
    with any_runtime.uow() as slow:
        slow.deliveries.queue_behind_booking(source.source.id, "HX-1")  # HX-1 is in progress
        worker = threading.Thread(
            target=lambda: results.append(
                receive_delivery(any_runtime.uow(), source.source.id, other)
            )
        )
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "HX-2's delivery waited for HX-1's transaction"
    assert [result.delivery.outcome for result in results] == ["accepted"]
    (reservation,) = rows(any_runtime, Reservation)
    assert reservation.external_id == "HX-2"


def test_a_feed_booking_is_cancelled_after_two_misses(any_runtime, owner, clock):
    policy = FeedPolicy()
    start = date(2026, 12, 4)
    with LocalServer() as server, feed_client(allow_private=True) as http:
        settings = FeedSettings("flat-1", server.url("/a.ics"))
        feed = add_feed(any_runtime.uow(), owner, settings)
        server.set("/a.ics", airbnb(("a", start, start + timedelta(days=2))))
        assert sync_feed(any_runtime.uow(), owner, http, feed.id, policy).created == 1
        only_b = airbnb(("b", start + timedelta(days=3), start + timedelta(days=4)))
        server.set("/a.ics", only_b)
        assert sync_feed(any_runtime.uow(), owner, http, feed.id, policy).missed == 1
        server.set("/a.ics", only_b + b"\r\n")  # a second, fresh snapshot
        assert sync_feed(any_runtime.uow(), owner, http, feed.id, policy).cancelled == 1
    statuses = sorted((r.external_id, r.status) for r in rows(any_runtime, Reservation))
    assert statuses == [("a@airbnb.com", "cancelled"), ("b@airbnb.com", "confirmed")]
