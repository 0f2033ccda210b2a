"""Property: duplicated and reordered deliveries end in the same grants as the ordered sequence.

Two bookings each go through a few versions (status and dates change, ``updated_at`` grows).
One organisation receives them in order, once each. Another receives any interleaving of the
same deliveries, with retries (same delivery id, signed again later) and exact replays (same
id and timestamp, refused). Both must end with the same reservations and the same *active*
grants: same window, same locks. (A grant that was created and revoked along the ordered way
may never exist in the shuffled one, when the final cancellation arrived first; nobody can
open a door with either, so revoked grants are not compared. Codes are random.)
"""

import itertools
import json
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorcode.sources.deliveries import DeliveryRefused, InboundRequest, receive_delivery
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.models import Grant, Reservation
from tests.builders import make_owner, make_property
from tests.sources.conftest import signed

START = date(2026, 12, 1)
organisations = itertools.count()

version = st.tuples(
    st.sampled_from(["confirmed", "confirmed", "pending", "cancelled"]),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=1, max_value=5),
)
histories = st.lists(st.lists(version, min_size=1, max_size=4), min_size=2, max_size=2)


def bodies(history):
    """Every delivery of every booking, in the order the source made them."""
    for booking, versions in enumerate(history):
        for step, (status, offset, nights) in enumerate(versions):
            check_in = START + timedelta(days=offset)
            yield (
                f"d-{booking}-{step}",
                {
                    "version": 1,
                    "external_id": f"B-{booking}",
                    "property": "flat",
                    "status": status,
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=nights)).isoformat(),
                    "updated_at": f"2026-11-{10 + step:02d}T08:00:00Z",
                },
            )


def fresh_source(runtime):
    owner = make_owner(runtime, f"org-{next(organisations)}")
    make_property(runtime, owner, "Flat", external_id="flat")
    issued = add_source(runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))
    return owner, issued


def deliver(runtime, issued, request):
    """Send one request; the only refusal an authentic delivery may meet is a replay."""
    try:
        receive_delivery(runtime.uow(), issued.source.id, request)
    except DeliveryRefused as refused:
        refusal = refused.error.reason
    else:
        return
    assert refusal == "replayed_delivery"


def signed_request(issued, delivery_id, body, clock):
    content = json.dumps(body).encode()
    headers = signed(issued, content, clock.now, delivery_id)
    return InboundRequest(content, {name.lower(): value for name, value in headers.items()})


def outcome(runtime, owner):
    with runtime.uow() as uow:
        reservations = uow.session.query(Reservation).filter_by(
            organisation_id=owner.organisation_id
        )
        stays = {(r.external_id, r.status, r.check_in, r.check_out) for r in reservations}
        grants = uow.session.query(Grant).filter_by(
            organisation_id=owner.organisation_id, revoked_at=None
        )
        active = {
            (g.reservation.external_id, g.starts_at, g.ends_at, len(g.lock_codes)) for g in grants
        }
        return stays, active


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, data=st.data())
def test_any_interleaving_of_duplicate_and_reordered_deliveries_ends_like_the_ordered_one(
    runtime, clock, history, data
):
    deliveries = list(bodies(history))
    ordered_owner, ordered_source = fresh_source(runtime)
    for delivery_id, body in deliveries:
        clock.advance(seconds=1)
        deliver(runtime, ordered_source, signed_request(ordered_source, delivery_id, body, clock))

    shuffled_owner, shuffled_source = fresh_source(runtime)
    sends = deliveries + data.draw(st.lists(st.sampled_from(deliveries), max_size=6))
    sent = {}
    for delivery_id, body in data.draw(st.permutations(sends)):
        exact_replay = delivery_id in sent and data.draw(st.booleans())
        if not exact_replay:
            clock.advance(seconds=1)
            sent[delivery_id] = signed_request(shuffled_source, delivery_id, body, clock)
        deliver(runtime, shuffled_source, sent[delivery_id])

    assert outcome(runtime, shuffled_owner) == outcome(runtime, ordered_owner)
