"""What a new operator tripped over in the dashboard (issue 15), each checked as they saw it."""

import re
from datetime import date

from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services.alerts import raise_alert
from doorcode.services.reservations import Guest, ReservationDetails, record_reservation
from tests.builders import book, make_property
from tests.web.test_dashboard_pages import words


def calendar_booking(runtime, world, uid, name, check_in, check_out):
    """A booking as a calendar feed records it (no contact), with the alert that follows."""
    details = ReservationDetails(
        source="ical:feed_1",
        external_id=uid,
        property_ref=world.flat.id,
        status=ReservationStatus.CONFIRMED,
        stay=Stay(check_in, check_out),
        guest=Guest(name=name),
    )
    booked = record_reservation(runtime.uow(), world.owner, details).reservation
    unreachable(runtime, world, booked.id)
    return booked


def unreachable(runtime, world, reservation_id):
    with runtime.uow() as uow:
        raise_alert(
            uow,
            world.owner.organisation_id,
            "GuestUnreachable",
            ("reservation", reservation_id),
            "the guest has no email address or phone number; add one to the reservation",
        )
        uow.commit()


def test_today_names_the_guest_and_property_of_each_alert(signed_in, world, runtime):
    unreachable(runtime, world, world.stay.id)  # a booking from a PMS, not a calendar
    page = words(signed_in.get("/").text)
    assert "GuestUnreachable Ada Lovelace · Flat 1 the guest has no email" in page


def test_today_groups_the_expected_no_contact_notices_of_calendar_bookings(
    signed_in, world, runtime
):
    calendar_booking(
        runtime, world, "uid-1", "Airbnb guest", date(2026, 11, 27), date(2026, 11, 29)
    )
    calendar_booking(
        runtime, world, "uid-2", "Booking.com guest", date(2026, 12, 1), date(2026, 12, 3)
    )
    html = signed_in.get("/").text
    page = words(html)
    assert "Open alerts 1" in page
    assert "2 calendar bookings came without an email or phone number" in page
    assert "Airbnb guest · Flat 1" in page
    assert "Booking.com guest · Flat 1" in page
    assert html.count('<li class="alert') == 1


def test_reservation_dates_carry_the_year(signed_in, world, runtime):
    book(
        runtime,
        world.owner,
        world.flat,
        "LONG",
        date(2026, 12, 1),
        date(2027, 11, 30),  # nearly a year: the longest stay accepted is 365 nights
        guest="Almost A Year",
    )
    page = words(signed_in.get("/reservations").text)
    assert "Tue 01 Dec 2026, 15:00" in page
    assert "Tue 30 Nov 2027, 11:00" in page


def test_reservations_page_through_with_numbered_pages(signed_in, world, runtime):
    for number in range(55):
        day = date(2027, 1, 1).toordinal() + number * 2
        book(
            runtime,
            world.owner,
            world.flat,
            f"P-{number}",
            date.fromordinal(day),
            date.fromordinal(day + 1),
            guest=f"Guest {number:02d}",
        )
    first = signed_in.get("/reservations")
    assert "Page 1 of 2 · 56 reservations" in words(first.text)
    assert re.search(r'href="\?[^"]*page=2" rel="next">Next', first.text)
    second = signed_in.get("/reservations", params={"page": 2})
    assert "Page 2 of 2" in words(second.text)
    assert "Guest 54" in second.text
    assert "Guest 00" not in second.text
    beyond = signed_in.get("/reservations", params={"page": 9})
    assert "Page 2 of 2" in words(beyond.text)


def test_one_page_of_reservations_has_no_bare_page_number(signed_in, world):
    page = words(signed_in.get("/reservations").text)
    assert "Page 1" not in page
    assert "1 reservation" in page
    assert "1 reservations" not in page


def test_the_audit_log_names_what_each_event_is_about_on_the_propertys_clock(
    signed_in, world, runtime
):
    html = signed_in.get("/audit").text
    page = words(html)
    assert f'<a href="/reservations/{world.stay.id}">Ada Lovelace · Flat 1</a>' in html
    assert "Mon 23 Nov 2026, 09:00 WET ReservationRecorded" in page
    assert world.stay.id not in re.sub(r'href="[^"]*"', "", html)


def test_the_timeline_rows_share_one_day_axis_across_zones(signed_in, world, runtime):
    make_property(runtime, world.owner, "Madrid flat", time_zone="Europe/Madrid")
    make_property(runtime, world.owner, "Tokyo flat", time_zone="Asia/Tokyo")
    html = signed_in.get("/timeline").text
    now_lines = re.findall(r'<line class="now" x1="([\d.]+)"', html)
    first_days = re.findall(r'<svg class="timeline".*?<line class="day" x1="([\d.]+)"', html)
    assert len(now_lines) == 3
    assert len(set(now_lines)) == 1, now_lines
    assert len(set(first_days)) == 1, first_days
    assert "one day axis, drawn on UTC days" in words(html)
