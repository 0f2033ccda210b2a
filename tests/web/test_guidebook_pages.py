"""The guest's page: what it says before, during and after the stay, and its three buttons."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from doorcode.services.properties import change_property
from doorcode.store.models import Event
from tests.builders import book, guide_token_of
from tests.web.test_dashboard_pages import code_of, words


def guide(client, world, **params):
    return client.get(f"/guide/{world.stay_token}", params=params)


def test_before_the_reveal_time_the_page_says_when_the_code_appears(client, world, clock):
    clock.now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    page = words(guide(client, world).text)
    assert "Hello Ada, welcome to Flat 1" in page
    assert "Check-in Mon 23 Nov 2026, 15:00 WET" in page
    assert "Your code will appear here on Sat 21 Nov 2026, 15:00 WET" in page
    assert "I have arrived" not in page


def test_during_the_stay_the_page_shows_the_code_and_the_buttons(client, world, runtime, clock):
    clock.now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    page = guide(client, world)
    assert f'<code class="code big">{code_of(runtime, world.grant_id)}</code>' in page.text
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    text = words(page.text)
    for button in ("I have arrived", "I have left", "My code does not work"):
        assert button in text
    assert "Your host Acme" in text


def test_after_check_out_the_page_thanks_the_guest_and_shows_no_code(client, world, runtime, clock):
    clock.now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    page = guide(client, world)
    assert code_of(runtime, world.grant_id) not in page.text
    assert "Your stay ended on Thu 26 Nov 2026, 11:00 WET" in words(page.text)


def test_pressing_i_have_arrived_thanks_the_guest_and_records_it(client, world, runtime, clock):
    clock.now = datetime(2026, 11, 23, 16, tzinfo=UTC)
    page = client.post(f"/guide/{world.stay_token}/arrived")
    assert page.url.query == b"done=arrived"
    text = words(page.text)
    assert "We told your host you have arrived" in text
    assert "You told your host you arrived at Mon 23 Nov 16:00" in text
    assert "I have arrived" not in text
    with runtime.uow() as uow:
        assert uow.session.scalar(select(Event.kind).where(Event.kind == "GuestArrived"))


def test_a_code_problem_without_backup_points_to_the_host(client, world, clock):
    clock.now = datetime(2026, 11, 23, 16, tzinfo=UTC)
    page = client.post(f"/guide/{world.stay_token}/code-problem")
    text = words(page.text)
    assert "We told your host, who will help you get in" in text
    assert "If you still cannot get in, please call your host now" in text


def test_a_code_problem_shows_a_released_backup_code(client, world, runtime, clock):
    change_property(runtime.uow(), world.owner, world.flat.id, {"backup_codes": True})
    clock.now = datetime(2026, 11, 23, 16, tzinfo=UTC)
    page = client.post(f"/guide/{world.stay_token}/code-problem")
    assert page.url.query == b"done=problem-backup"
    assert "Backup code" in page.text
    assert page.text.count('<code class="code big">') == 2


def test_a_button_pressed_out_of_its_time_just_shows_the_page(client, world, runtime, clock):
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)  # before the reveal time
    page = client.post(f"/guide/{world.stay_token}/arrived")
    assert page.status_code == 200
    assert page.url.query == b""
    with runtime.uow() as uow:
        assert uow.session.scalar(select(Event.kind).where(Event.kind == "GuestArrived")) is None


def test_hours_before_check_in_the_code_shows_but_arrival_cannot_be_pressed(
    client, world, runtime, clock
):
    """Check-in is 15:00; at 04:00 the guest sees the code but cannot tell the host "I'm in"."""
    clock.now = datetime(2026, 11, 23, 4, tzinfo=UTC)
    page = client.get(f"/guide/{world.stay_token}").text
    assert "code" in page
    assert "I have arrived" not in page
    pressed = client.post(f"/guide/{world.stay_token}/arrived")
    assert pressed.url.query == b""
    with runtime.uow() as uow:
        assert uow.session.scalar(select(Event.kind).where(Event.kind == "GuestArrived")) is None


@pytest.mark.parametrize(
    ("name", "greeting"),
    [(" \t ", "Welcome to Flat 1"), ("Dr Ruth Weiss", "Hello Dr Ruth Weiss, welcome to Flat 1")],
)
def test_the_guest_is_greeted_as_their_messages_greet_them(client, world, runtime, name, greeting):
    """A blank name from a feed took the page down (a 500 instead of the code)."""
    booked = book(runtime, world.owner, world.flat, "B-2", date(2026, 11, 26), date(2026, 11, 28))
    with runtime.uow() as uow:
        uow.reservations.get(world.owner.organisation_id, booked.reservation.id).guest_name = name
        uow.commit()
    page = client.get(f"/guide/{guide_token_of(runtime, booked.reservation)}")
    assert page.status_code == 200
    assert greeting in words(page.text)
