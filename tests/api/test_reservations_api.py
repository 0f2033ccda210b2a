"""The reservations API: recording, idempotency, and every bad input refused cleanly."""

import json

import pytest

from tests.api.conftest import database_dump

BOOKING = {
    "source": "pms",
    "external_id": "HX-1",
    "property": "flat-1",
    "check_in": "2026-12-04",
    "check_out": "2026-12-07",
    "guest": {"name": "Ada", "email": "ada@example.org", "phone": "+44 20 7946 0000"},
}


@pytest.fixture
def flat(client, keys):
    body = {"name": "Flat 1", "time_zone": "Europe/London", "external_id": "flat-1"}
    prop = client.post("/api/v1/properties", json=body, headers=keys.owner).json()
    lock = client.post("/api/v1/locks", json={"name": "Flat 1 door"}, headers=keys.owner).json()
    client.put(f"/api/v1/properties/{prop['id']}/locks/{lock['id']}", headers=keys.owner)
    return prop


def test_a_confirmed_booking_gets_a_grant_whose_code_managers_can_read(client, keys, flat):
    created = client.post("/api/v1/reservations", json=BOOKING, headers=keys.manager)
    assert created.status_code == 201
    body = created.json()
    assert body["change"] == "created"
    assert body["starts_at"] == "2026-12-04T15:00:00Z"
    code = client.get(f"/api/v1/grants/{body['grant_id']}/code", headers=keys.manager)
    assert code.status_code == 200
    assert len(code.json()["code"]) == 6
    revealed = client.get("/api/v1/events?kind=GrantCodeRevealed", headers=keys.owner).json()
    assert revealed[0]["subject_id"] == body["grant_id"]


def test_replaying_a_booking_answers_unchanged_and_stores_nothing(client, keys, flat, runtime):
    client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    before = database_dump(runtime)
    again = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    assert again.status_code == 200
    assert again.json()["change"] == "unchanged"
    assert database_dump(runtime) == before


def test_cancelling_revokes_the_grant(client, keys, flat):
    booked = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    cancelled = client.post(
        f"/api/v1/reservations/{booked['id']}/cancel",
        json={"reason": "no-show"},
        headers=keys.owner,
    )
    assert cancelled.json()["status"] == "cancelled"
    grant = client.get(f"/api/v1/grants/{booked['grant_id']}", headers=keys.owner).json()
    assert grant["state"] == "revoked"
    assert grant["revoke_reason"] == "the reservation is cancelled"


def changed(**fields):
    return {**BOOKING, **fields}


BAD_BOOKINGS = [
    (changed(check_out="2026-12-01"), 422, "invalid_request", "check_out: check-out 2026-12-01 is"),
    (changed(property="no-such-flat"), 422, "unknown_property", "no property 'no-such-flat'"),
    (changed(check_in="tomorrow"), 422, "invalid_request", "check_in"),
    (changed(guest={"email": "not-an-email"}), 422, "invalid_request", "guest.email"),
    (changed(status="maybe"), 422, "invalid_request", "status"),
    (changed(surprise=True), 422, "invalid_request", "surprise"),
    (
        {k: v for k, v in BOOKING.items() if k != "external_id"},
        422,
        "invalid_request",
        "external_id",
    ),
    (changed(check_in_time="25:00"), 422, "invalid_request", "check_in_time"),
    (
        changed(check_out="2026-12-04", check_out_time="10:00"),
        422,
        "invalid_window",
        "check-out must be after check-in",
    ),
]


@pytest.mark.parametrize(("body", "status", "error", "says"), BAD_BOOKINGS)
def test_bad_bookings_are_refused_with_a_reason_and_change_nothing(
    client, keys, flat, runtime, body, status, error, says
):
    before = database_dump(runtime)
    answer = client.post("/api/v1/reservations", json=body, headers=keys.owner)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert says in answer.json()["message"]
    assert database_dump(runtime) == before


def test_malformed_json_is_refused(client, keys, flat, runtime):
    before = database_dump(runtime)
    answer = client.post(
        "/api/v1/reservations",
        content=b'{"external_id": "HX-1",',
        headers={**keys.owner, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_json"
    assert database_dump(runtime) == before


def test_oversized_bodies_are_refused_before_parsing(client, keys, flat, runtime):
    before = database_dump(runtime)
    huge = json.dumps(changed(guest={"name": "x" * (1024 * 1024)}))
    answer = client.post(
        "/api/v1/reservations",
        content=huge,
        headers={**keys.owner, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "body_too_large"
    assert database_dump(runtime) == before


def test_streamed_oversized_bodies_are_refused_too(client, keys, flat, runtime):
    def chunks():
        for _ in range(2048):
            yield b"x" * 1024

    answer = client.post(
        "/api/v1/reservations",
        content=chunks(),
        headers={**keys.owner, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_another_organisations_reservation_answers_404(client, keys, flat):
    booked = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    for path in (f"/api/v1/reservations/{booked['id']}", f"/api/v1/grants/{booked['grant_id']}"):
        answer = client.get(path, headers=keys.stranger)
        assert answer.status_code == 404
        assert answer.json()["error"] == "not_found"
    assert client.get("/api/v1/reservations", headers=keys.stranger).json() == []


def test_viewers_read_but_neither_write_nor_see_codes(client, keys, flat, runtime):
    booked = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    before = database_dump(runtime)
    assert client.get("/api/v1/reservations", headers=keys.viewer).status_code == 200
    code = client.get(f"/api/v1/grants/{booked['grant_id']}/code", headers=keys.viewer)
    assert code.status_code == 403
    assert code.json()["error"] == "permission_denied"
    write = client.post(
        "/api/v1/reservations", json=changed(external_id="HX-2"), headers=keys.viewer
    )
    assert write.status_code == 403
    assert database_dump(runtime) == before


def test_a_backup_code_is_released_only_where_the_property_keeps_one(client, keys, flat, runtime):
    booked = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    path = f"/api/v1/reservations/{booked['id']}/backup-code"
    before = database_dump(runtime)
    refused = client.post(path, headers=keys.manager)
    assert (refused.status_code, refused.json()["message"]) == (
        422,
        "this property keeps no backup code",
    )
    assert database_dump(runtime) == before
    client.patch(
        f"/api/v1/properties/{flat['id']}", json={"backup_codes": True}, headers=keys.owner
    )
    released = client.post(path, headers=keys.manager).json()
    assert (released["kind"], released["reservation_id"]) == ("backup", booked["id"])
    assert client.post(path, headers=keys.viewer).status_code == 403


def test_an_update_without_the_guest_keeps_their_contact_details(client, keys, flat):
    """New dates from a script that knows nothing of the guest must not make them unreachable."""
    client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    moved = {key: value for key, value in BOOKING.items() if key != "guest"}
    moved["check_out"] = "2026-12-08"
    body = client.post("/api/v1/reservations", json=moved, headers=keys.owner).json()
    assert body["change"] == "updated"
    assert body["check_out"] == "2026-12-08"
    assert body["guest"]["name"] == "Ada"
    assert body["guest"]["email"] == "ada@example.org"
    assert body["guest"]["phone"] == "+44 20 7946 0000"
    again = client.post("/api/v1/reservations", json=moved, headers=keys.owner).json()
    assert again["change"] == "unchanged"  # a replay is still recognised as one


def test_a_new_email_replaces_the_old_one_and_keeps_the_rest(client, keys, flat):
    client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    changed = {**BOOKING, "guest": {"email": "ada@lovelace.example"}}
    body = client.post("/api/v1/reservations", json=changed, headers=keys.owner).json()
    assert body["guest"]["email"] == "ada@lovelace.example"
    assert (body["guest"]["name"], body["guest"]["phone"]) == ("Ada", "+44 20 7946 0000")


def test_a_booking_re_sent_without_its_source_updates_the_one_known_by_its_id(
    client, keys, flat, runtime
):
    first = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    without_source = {key: value for key, value in BOOKING.items() if key != "source"}
    without_source["check_out"] = "2026-12-09"
    again = client.post("/api/v1/reservations", json=without_source, headers=keys.owner).json()
    assert again["id"] == first["id"]
    assert again["source"] == "pms"
    assert len(client.get("/api/v1/reservations", headers=keys.owner).json()) == 1


def test_a_new_booking_without_a_source_is_the_apis_own(client, keys, flat):
    fresh = {key: value for key, value in BOOKING.items() if key != "source"}
    assert (
        client.post("/api/v1/reservations", json=fresh, headers=keys.owner).json()["source"]
        == "api"
    )


def test_an_id_known_to_two_sources_needs_the_source_named(client, keys, flat, runtime):
    client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    client.post("/api/v1/reservations", json={**BOOKING, "source": "ical"}, headers=keys.owner)
    before = database_dump(runtime)
    fresh = {key: value for key, value in BOOKING.items() if key != "source"}
    refused = client.post("/api/v1/reservations", json=fresh, headers=keys.owner)
    assert refused.status_code == 422
    assert "name the source" in json.dumps(refused.json())
    assert database_dump(runtime) == before


def test_a_stay_longer_than_a_year_is_refused_and_changes_nothing(client, keys, flat, runtime):
    before = database_dump(runtime)
    decade = {**BOOKING, "check_out": "2036-12-04"}
    refused = client.post("/api/v1/reservations", json=decade, headers=keys.owner)
    assert refused.status_code == 422
    assert "3653 nights is longer than the 365 accepted" in json.dumps(refused.json())
    assert database_dump(runtime) == before


def test_overlapping_stays_are_recorded_and_raise_an_alert_naming_both(client, keys, flat):
    first = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    second_booking = {
        **BOOKING,
        "external_id": "HX-2",
        "check_in": "2026-12-06",
        "check_out": "2026-12-09",
        "guest": {"name": "Bo"},
    }
    second = client.post("/api/v1/reservations", json=second_booking, headers=keys.owner)
    assert second.status_code == 201  # the PMS is the truth: recorded
    alerts = client.get("/api/v1/alerts", headers=keys.owner).json()
    overlaps = [alert for alert in alerts if alert["kind"] == "StaysOverlap"]
    assert {alert["subject_id"] for alert in overlaps} == {first["id"], second.json()["id"]}
    assert all("Ada" in a["message"] and "Bo" in a["message"] for a in overlaps)
    client.post(f"/api/v1/reservations/{second.json()['id']}/cancel", json={}, headers=keys.owner)
    alerts = client.get("/api/v1/alerts", headers=keys.owner).json()
    assert [alert for alert in alerts if alert["kind"] == "StaysOverlap"] == []


def test_back_to_back_stays_do_not_overlap(client, keys, flat):
    client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner)
    next_one = {
        **BOOKING,
        "external_id": "HX-2",
        "check_in": "2026-12-07",
        "check_out": "2026-12-09",
    }
    assert client.post("/api/v1/reservations", json=next_one, headers=keys.owner).status_code == 201
    alerts = client.get("/api/v1/alerts", headers=keys.owner).json()
    assert [alert for alert in alerts if alert["kind"] == "StaysOverlap"] == []


def test_new_check_in_and_out_hours_that_make_stays_overlap_raise_the_alert(client, keys, flat):
    first = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    next_one = {
        **BOOKING,
        "external_id": "HX-2",
        "check_in": "2026-12-07",
        "check_out": "2026-12-09",
    }
    client.post("/api/v1/reservations", json=next_one, headers=keys.owner)
    late = {"check_out_time": "16:00", "check_in_time": "10:00"}
    assert client.patch(
        f"/api/v1/properties/{flat['id']}", json=late, headers=keys.owner
    ).is_success
    alerts = client.get("/api/v1/alerts", headers=keys.owner).json()
    assert first["id"] in {a["subject_id"] for a in alerts if a["kind"] == "StaysOverlap"}


def test_a_stay_longer_than_the_limit_can_still_be_cancelled(client, keys, flat, runtime):
    booked = client.post("/api/v1/reservations", json=BOOKING, headers=keys.owner).json()
    runtime.settings.max_stay_nights = 2  # lowered after the booking was taken
    cancelled = client.post(
        "/api/v1/reservations", json={**BOOKING, "status": "cancelled"}, headers=keys.owner
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["id"] == booked["id"]
    assert cancelled.json()["status"] == "cancelled"
