"""Hostaway and Guesty webhooks, from their documented example payloads, through the app."""

import copy
import json

import pytest

from doorcode.domain.reservations import ReservationStatus
from doorcode.sources.errors import NotAReservation, PayloadRejected
from doorcode.sources.guesty import STATUSES as GUESTY_STATUSES
from doorcode.sources.guesty import GuestyAdapter
from doorcode.sources.hostaway import STATUSES as HOSTAWAY_STATUSES
from doorcode.sources.hostaway import HostawayAdapter
from doorcode.store.models import Grant, Reservation, WebhookDelivery
from tests.sources.conftest import (
    GUESTY_LISTING,
    HOSTAWAY_LISTING,
    basic_auth,
    dump_except_deliveries,
    fixture_json,
    svix_headers,
)


def first(runtime, model):
    with runtime.uow() as uow:
        found = uow.session.query(model).one()
        if isinstance(found, Reservation):
            _ = found.property
        return found


def to_hostaway(client, world, document, password=None):
    issued = world.hostaway
    headers = basic_auth(issued.source.id, password or issued.secret)
    return client.post(
        f"/webhooks/reservations/{issued.source.id}",
        content=json.dumps(document).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


def to_guesty(client, world, clock, document, secret=None):
    issued = world.guesty
    content = json.dumps(document).encode()
    headers = svix_headers(secret or issued.secret, content, clock.now)
    return client.post(
        f"/webhooks/reservations/{issued.source.id}", content=content, headers=headers
    )


def test_hostaways_documented_reservation_becomes_a_guest_grant(client, runtime, world):
    answer = to_hostaway(client, world, fixture_json("hostaway/reservation_created.json"))
    assert answer.status_code == 200, answer.json()
    assert answer.json()["change"] == "created"
    reservation = first(runtime, Reservation)
    assert (reservation.source, reservation.external_id) == ("hostaway", "13")
    assert reservation.property.external_id == HOSTAWAY_LISTING
    assert (reservation.check_in.isoformat(), reservation.check_out.isoformat()) == (
        "2026-12-15",
        "2026-12-16",
    )
    assert (reservation.guest_name, reservation.guest_email) == ("Andrew Peterson", "mail@test.com")
    assert (reservation.guest_phone, reservation.guest_count) == ("+75125551212", 1)
    assert reservation.source_version is not None


def test_the_stored_hostaway_body_keeps_the_booking_but_not_its_door_code(client, runtime, world):
    to_hostaway(client, world, fixture_json("hostaway/reservation_created.json"))
    stored = first(runtime, WebhookDelivery)
    kept = json.loads(stored.body)
    assert kept["data"]["doorCode"] == "***"
    assert kept["data"]["guestName"] == "Andrew Peterson"
    assert b"12345" not in stored.body
    assert stored.headers["authorization"] == "***"


def test_a_hostaway_cancellation_revokes_the_grant(client, runtime, world):
    document = fixture_json("hostaway/reservation_created.json")
    to_hostaway(client, world, document)
    cancelled = copy.deepcopy(document)
    cancelled["event"] = "reservation.updated"
    cancelled["data"].update(status="cancelled", updatedOn="2026-11-12 09:00:00")
    assert to_hostaway(client, world, cancelled).json()["outcome"] == "accepted"
    assert first(runtime, Grant).revoked_at is not None


def test_hostaway_with_a_wrong_password_is_refused(client, runtime, world):
    answer = to_hostaway(
        client, world, fixture_json("hostaway/reservation_created.json"), password="guess"
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_credentials")


def test_hostaway_messages_are_ignored_not_refused(client, runtime, world):
    before = dump_except_deliveries(runtime)
    message = {"object": "conversationMessage", "event": "message.received", "data": {"id": 1}}
    answer = to_hostaway(client, world, message)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    assert dump_except_deliveries(runtime) == before


def test_hostaway_bookings_without_dates_are_refused(client, runtime, world):
    document = fixture_json("hostaway/reservation_created.json")
    document["data"]["isDatesUnspecified"] = 1
    answer = to_hostaway(client, world, document)
    assert (answer.status_code, answer.json()["error"]) == (422, "dates_unspecified")


def test_hostaway_field_errors_name_hostaways_fields(client, runtime, world):
    document = fixture_json("hostaway/reservation_created.json")
    document["data"]["arrivalDate"] = 20261215
    answer = to_hostaway(client, world, document)
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "data.arrivalDate"


def test_guestys_documented_inquiry_is_pending_until_confirmed(client, runtime, world, clock):
    document = fixture_json("guesty/reservation_new.json")
    answer = to_guesty(client, world, clock, document)
    assert answer.status_code == 200, answer.json()
    reservation = first(runtime, Reservation)
    assert (reservation.status, reservation.external_id) == ("pending", "59d11425af06e3100095e9fe")
    assert reservation.property.external_id == GUESTY_LISTING
    assert (reservation.guest_name, reservation.guest_count) == ("Gerald Charlton", 2)
    assert answer.json()["grant_id"] is None

    confirmed = copy.deepcopy(document)
    confirmed["event"] = "reservation.updated"
    confirmed["reservation"].update(status="confirmed", lastUpdatedAt="2026-11-02T10:00:00.000Z")
    answer = to_guesty(client, world, clock, confirmed)
    assert answer.json()["grant_id"] is not None
    grant = first(runtime, Grant)
    assert grant.starts_at.isoformat() == "2026-12-04T15:00:00+00:00"


def test_an_older_guesty_update_is_stale(client, runtime, world, clock):
    document = fixture_json("guesty/reservation_new.json")
    newer = copy.deepcopy(document)
    newer["reservation"].update(status="canceled", lastUpdatedAt="2026-11-03T10:00:00.000Z")
    to_guesty(client, world, clock, newer)
    assert to_guesty(client, world, clock, document).json()["outcome"] == "stale"
    assert first(runtime, Reservation).status == "cancelled"


def test_guesty_signed_with_another_secret_is_refused(client, runtime, world, clock):
    document = fixture_json("guesty/reservation_new.json")
    other = "whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
    answer = to_guesty(client, world, clock, document, secret=other)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_signature")


@pytest.mark.parametrize(
    ("statuses", "known"),
    [
        (HOSTAWAY_STATUSES, {"new", "modified", "cancelled", "inquiry", "ownerStay"}),
        (GUESTY_STATUSES, {"confirmed", "reserved", "canceled", "checked_in", "closed"}),
    ],
)
def test_documented_statuses_are_all_mapped(statuses, known):
    assert known <= set(statuses)
    assert set(statuses.values()) == set(ReservationStatus)


def test_unknown_statuses_and_non_reservation_events_are_told_apart():
    document = fixture_json("hostaway/reservation_created.json")
    document["data"]["status"] = "teleported"
    with pytest.raises(PayloadRejected, match="teleported"):
        HostawayAdapter().to_generic(document)
    with pytest.raises(NotAReservation):
        GuestyAdapter().to_generic({"event": "listing.updated", "listing": {}})


def test_unusable_contact_details_are_dropped_rather_than_costing_the_guest_a_code():
    document = fixture_json("hostaway/reservation_created.json")
    document["data"].update(guestEmail="not an address", phone="call me", checkInTime=16)
    generic = HostawayAdapter().to_generic(document)
    assert generic["guest"]["email"] is None
    assert generic["guest"]["phone"] is None
    assert generic["check_in_time"] == "16:00"


@pytest.mark.parametrize(
    "address", ["ada@example.org,postmaster", "<ada@example.org>", "team:ada@example.org;"]
)
def test_an_address_that_names_more_or_other_recipients_is_not_kept(address):
    document = fixture_json("hostaway/reservation_created.json")
    document["data"].update(guestEmail=address)
    assert HostawayAdapter().to_generic(document)["guest"]["email"] is None
