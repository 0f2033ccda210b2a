"""Bookings in the dashboard: add, change and cancel a reservation, add the contact details a
calendar booking lacks, and search across properties, guests and bookings."""

import html
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services.reservations import (
    Guest,
    ReservationDetails,
    record_reservation,
)
from doorcode.store.models import Reservation
from tests.api.conftest import database_dump
from tests.builders import book, make_property
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_dashboard_pages import alert_of, code_of, words


def booking_form(token, property_id, **changes):
    """A valid new-booking form, with ``changes`` over it."""
    return {
        "csrf_token": token,
        "property": property_id,
        "check_in": "2026-12-01",
        "check_out": "2026-12-04",
        "check_in_at": "",
        "check_out_at": "",
        "guest_name": "Rui Costa",
        "guest_email": "rui@example.pt",
        "guest_phone": "+351 912 345 678",
        "guest_locale": "pt",
        "guest_count": "2",
        "status": "confirmed",
        "reference": "",
        **changes,
    }


def reservation_named(runtime, guest):
    with runtime.uow() as uow:
        query = select(Reservation).where(Reservation.guest_name == guest)
        return uow.session.scalars(query).one()


def guest_grant_of(runtime, reservation_id):
    with runtime.uow() as uow:
        found = uow.grants.guest_grant_of(reservation_id)
        return (found.id, found.starts_at, found.ends_at, found.revoked_at)


def test_the_booking_form_names_the_zone_of_each_property(signed_in, world):
    page = signed_in.get(f"/reservations/new?property={world.flat.id}")
    assert page.status_code == 200
    text = words(page.text)
    assert "Flat 1 (Europe/Lisbon)" in text
    assert "Dates and times are on Flat 1's clock: Europe/Lisbon" in text


def test_an_operator_adds_a_booking_and_its_guest_gets_a_code_on_the_propertys_clock(
    signed_in, world, runtime
):
    token = csrf_of(signed_in, "/reservations/new")
    form = booking_form(token, world.flat.id, check_in_at="16:30", check_out_at="10:00")
    page = signed_in.post("/reservations", data=form)
    assert page.status_code == 200
    text = words(page.text)
    assert "Rui Costa confirmed" in text
    assert "Tue 01 Dec 2026, 16:30 WET" in text
    assert "rui@example.pt · +351 912 345 678 · pt" in text
    booked = reservation_named(runtime, "Rui Costa")
    assert booked.source == "dashboard"
    _grant, starts, ends, revoked = guest_grant_of(runtime, booked.id)
    assert (starts, ends) == (
        datetime(2026, 12, 1, 16, 30, tzinfo=UTC),  # Lisbon is on UTC in winter
        datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
    )
    assert revoked is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"check_out": "2026-11-30"}, "check-out date is before check-in date"),
        ({"check_out": "2026-12-01"}, "check-out must be after check-in"),
        ({"check_in": "1st of December"}, "check-in: is not a date like 2026-12-24"),
        ({"check_in_at": "4pm"}, "check in time: is not a time like 15:00"),
        ({"guest_name": ""}, "guest name: is required"),
        ({"guest_email": "rui at example"}, "guest email: is not an email address like a@b.com"),
        ({"guest_phone": "call me"}, "guest phone: is not a phone number like +351 912 345"),
        ({"guest_count": "0"}, "guest count: must be a whole number from 1 to 99"),
        ({"property": ""}, "property: is required"),
        ({"reference": "B-1", "status": "confirmed"}, None),
    ],
)
def test_a_bad_booking_comes_back_with_the_reason_and_changes_nothing(
    signed_in, world, runtime, changes, reason
):
    if changes.get("reference") == "B-1":  # a reference in use by another dashboard booking
        book(
            runtime,
            world.owner,
            world.flat,
            "B-1",
            date(2026, 12, 10),
            date(2026, 12, 12),
            source="dashboard",
        )
        reason = "a booking with the reference 'B-1' exists"
    token = csrf_of(signed_in, "/reservations/new")
    before = database_dump(runtime)
    page = signed_in.post("/reservations", data=booking_form(token, world.flat.id, **changes))
    assert page.status_code == 422
    assert reason in html.unescape(alert_of(page.text))
    assert 'name="guest_name"' in page.text
    assert database_dump(runtime) == before


def test_changing_the_dates_moves_the_code_and_keeps_its_digits(signed_in, world, runtime):
    before = code_of(runtime, world.grant_id)
    form = signed_in.get(f"/reservations/{world.stay.id}/edit")
    assert 'value="2026-11-23"' in form.text
    assert "Europe/Lisbon" in words(form.text)
    token = csrf_of(signed_in, f"/reservations/{world.stay.id}/edit")
    data = booking_form(token, "", check_in="2026-11-24", check_out="2026-11-28")
    page = signed_in.post(f"/reservations/{world.stay.id}/edit", data=data)
    assert page.url.path == f"/reservations/{world.stay.id}"
    assert "Sat 28 Nov 2026, 11:00 WET" in words(page.text)
    grant_id, starts, ends, _revoked = guest_grant_of(runtime, world.stay.id)
    assert grant_id == world.grant_id
    assert (starts, ends) == (
        datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 11, 0, tzinfo=UTC),
    )
    assert code_of(runtime, world.grant_id) == before


def test_a_bad_change_comes_back_with_the_reason_and_changes_nothing(signed_in, world, runtime):
    token = csrf_of(signed_in, f"/reservations/{world.stay.id}/edit")
    before = database_dump(runtime)
    data = booking_form(token, "", check_in="2026-11-28", check_out="2026-11-24")
    page = signed_in.post(f"/reservations/{world.stay.id}/edit", data=data)
    assert page.status_code == 422
    assert alert_of(page.text) == "check-out date is before check-in date"
    assert 'value="2026-11-28"' in page.text
    assert database_dump(runtime) == before


def test_cancelling_asks_first_then_revokes_the_guest_code(signed_in, world, runtime):
    confirm = signed_in.get(f"/reservations/{world.stay.id}/cancel")
    assert "Cancel this booking?" in confirm.text
    assert "Flat 1 door" in words(confirm.text)
    token = csrf_of(signed_in, f"/reservations/{world.stay.id}/cancel")
    page = signed_in.post(
        f"/reservations/{world.stay.id}/cancel", data={"csrf_token": token, "reason": "no-show"}
    )
    assert page.url.path == f"/reservations/{world.stay.id}"
    assert "Ada Lovelace cancelled" in words(page.text)
    assert guest_grant_of(runtime, world.stay.id)[3] is not None
    assert "Cancel booking" not in page.text


def test_a_viewer_may_not_book_change_or_cancel(client, world, runtime):
    sign_in(client, "viewer")
    assert client.get("/reservations/new").status_code == 403
    assert client.get(f"/reservations/{world.stay.id}/edit").status_code == 403
    token = csrf_of(client, "/reservations")
    before = database_dump(runtime)
    assert client.post("/reservations", data=booking_form(token, world.flat.id)).status_code == 403
    cancel = client.post(f"/reservations/{world.stay.id}/cancel", data={"csrf_token": token})
    assert cancel.status_code == 403
    assert database_dump(runtime) == before
    assert "Change booking" not in client.get(f"/reservations/{world.stay.id}").text


def test_another_organisations_booking_cannot_be_changed(signed_in, world, runtime):
    token = csrf_of(signed_in, "/reservations")
    before = database_dump(runtime)
    page = signed_in.post(f"/reservations/{world.their_stay.id}/edit", data=booking_form(token, ""))
    assert page.status_code == 404
    assert database_dump(runtime) == before


def calendar_booking(runtime, world, name="Airbnb guest", check_out=date(2026, 11, 30)):
    """A booking as a calendar feed records it: no email, no phone."""
    details = ReservationDetails(
        source="ical:feed_1",
        external_id="uid-1@airbnb",
        property_ref=world.flat.id,
        status=ReservationStatus.CONFIRMED,
        stay=Stay(date(2026, 11, 27), check_out),
        guest=Guest(name=name),
    )
    return record_reservation(runtime.uow(), world.owner, details).reservation


def test_contact_added_to_a_calendar_booking_survives_the_calendars_next_change(
    signed_in, world, runtime
):
    booked = calendar_booking(runtime, world)
    page = signed_in.get(f"/reservations/{booked.id}/edit")
    assert "contact details you add stay" in words(page.text)
    token = csrf_of(signed_in, f"/reservations/{booked.id}/edit")
    data = booking_form(
        token, "", guest_name="Airbnb guest", check_in="2026-11-27", check_out="2026-11-30"
    )
    saved = signed_in.post(f"/reservations/{booked.id}/edit", data=data)
    assert "rui@example.pt" in saved.text
    calendar_booking(runtime, world, check_out=date(2026, 12, 1))  # the calendar moves it
    with runtime.uow() as uow:
        after = uow.session.get(Reservation, booked.id)
        assert (after.check_out, after.guest_email) == (date(2026, 12, 1), "rui@example.pt")


def test_the_unreachable_guest_alert_links_to_where_contact_details_are_added(
    signed_in, world, runtime
):
    from doorcode.services.alerts import raise_alert

    booked = calendar_booking(runtime, world)
    with runtime.uow() as uow:
        raise_alert(
            uow,
            world.owner.organisation_id,
            "GuestUnreachable",
            ("reservation", booked.id),
            "the guest has no email address or phone number",
        )
        uow.commit()
    page = signed_in.get(f"/reservations/{booked.id}")
    assert f'href="/reservations/{booked.id}/edit#guest_email">Add contact details' in page.text


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ada@example", "Ada Lovelace"),
        ("lovel", "Ada Lovelace"),
        ("B-1", "Ada Lovelace"),
        ("flat 1", "Ada Lovelace"),
    ],
)
def test_search_finds_bookings_by_guest_contact_reference_or_property(
    signed_in, world, query, found
):
    page = signed_in.get("/search", params={"q": query})
    assert page.status_code == 200
    assert f'href="/reservations/{world.stay.id}">{found}</a>' in page.text


def test_search_finds_properties_and_past_stays_but_never_another_organisations(
    signed_in, world, runtime, clock
):
    make_property(runtime, world.owner, "Seaside loft", time_zone="Europe/Lisbon")
    book(
        runtime,
        world.owner,
        world.flat,
        "OLD-1",
        date(2026, 6, 1),
        date(2026, 6, 3),
        guest="Old Guest",
    )
    page = words(signed_in.get("/search", params={"q": "seaside"}).text)
    assert "Properties 1 Seaside loft" in page
    assert "Old Guest" in words(signed_in.get("/search", params={"q": "old"}).text)
    theirs = words(signed_in.get("/search", params={"q": "eve"}).text)
    assert "Eve Other" not in theirs
    assert "Reservations 0" in theirs


def test_an_operator_can_clear_a_wrong_phone_number(signed_in, world, runtime):
    """Unlike a source that leaves a field out, the edit form says the whole contact."""
    token = csrf_of(signed_in, f"/reservations/{world.stay.id}/edit")
    signed_in.post(f"/reservations/{world.stay.id}/edit", data=booking_form(token, ""))
    token = csrf_of(signed_in, f"/reservations/{world.stay.id}/edit")
    cleared = booking_form(token, "", guest_phone="")
    signed_in.post(f"/reservations/{world.stay.id}/edit", data=cleared)
    with runtime.uow() as uow:
        stay = uow.session.get(Reservation, world.stay.id)
        assert (stay.guest_email, stay.guest_phone) == ("rui@example.pt", None)
