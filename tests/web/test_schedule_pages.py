"""Staff schedules in the dashboard: create, read on the property's clock, change, revoke."""

import html

import pytest

from tests.api.conftest import database_dump
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_dashboard_pages import alert_of, property_form, words


def schedule_form(token, property_id, **changes):
    return {
        "csrf_token": token,
        "holder": "Marta (cleaner)",
        "properties": [property_id],
        "frequency": "weekly",
        "weekdays": ["1"],
        "starts": "10:00",
        "ends": "14:00",
        "first_day": "2027-03-23",
        "last_day": "2027-04-06",
        "except_days": "",
        **changes,
    }


def test_a_schedule_made_in_the_dashboard_lists_its_windows_on_the_propertys_clock(
    signed_in, world
):
    form = signed_in.get("/schedules/new")
    assert "Flat 1 (Europe/Lisbon)" in words(form.text)
    token = csrf_of(signed_in, "/schedules/new")
    page = signed_in.post("/schedules", data=schedule_form(token, world.flat.id))
    assert page.status_code == 200
    text = words(page.text)
    assert "every Tue, 10:00-14:00, on each property's clock" in text
    assert "Tue 23 Mar 2027, 10:00 WET" in text
    assert "Tue 30 Mar 2027, 10:00 WEST" in text  # after Portugal's change to summer time
    assert "Marta (cleaner)" in words(signed_in.get("/schedules").text)


def test_changing_a_schedule_takes_a_day_off_and_revoking_it_ends_every_window(signed_in, world):
    token = csrf_of(signed_in, "/schedules/new")
    made = signed_in.post("/schedules", data=schedule_form(token, world.flat.id))
    path = made.url.path
    changed = signed_in.post(
        f"{path}/edit",
        data=schedule_form(token, world.flat.id, except_days="2027-03-30"),
    )
    assert changed.url.path == path
    assert "Days off Tue 30 Mar 2027" in words(changed.text)
    assert words(changed.text).count("revoked") == 1
    revoked = signed_in.post(f"{path}/revoke", data={"csrf_token": token, "reason": "left"})
    assert words(revoked.text).count("revoked") == 4  # the title and the three windows
    assert "Change schedule" not in revoked.text


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"weekdays": []}, "a weekly schedule needs at least one weekday"),
        ({"properties": []}, "choose at least one property"),
        ({"last_day": "2027-03-01"}, "the last day is before the first day"),
        ({"starts": "10am"}, "starts: is not a time like 10:00"),
        ({"except_days": "next tuesday"}, "except days: 'next tuesday' is not a date"),
        ({"holder": ""}, "holder: is required"),
        ({"weekdays": ["²"]}, "weekdays: is not a day of the week"),
        ({"last_day": "9999-12-31"}, "last day: is out of range"),
    ],
)
def test_a_bad_schedule_comes_back_with_the_reason_and_changes_nothing(
    signed_in, world, runtime, changes, reason
):
    token = csrf_of(signed_in, "/schedules/new")
    before = database_dump(runtime)
    page = signed_in.post("/schedules", data=schedule_form(token, world.flat.id, **changes))
    assert page.status_code == 422
    assert reason in html.unescape(alert_of(page.text))
    assert database_dump(runtime) == before


def test_a_viewer_cannot_make_or_revoke_a_schedule(client, world, runtime):
    sign_in(client, "viewer")
    assert client.get("/schedules/new").status_code == 403
    token = csrf_of(client, "/schedules")
    before = database_dump(runtime)
    answer = client.post("/schedules", data=schedule_form(token, world.flat.id))
    assert answer.status_code == 403
    assert database_dump(runtime) == before


def turnover_form(token, **changes):
    """The flat's settings with a turnover code for the cleaner, capped at 8 hours."""
    return property_form(
        token,
        **{
            "name": "Flat 1",
            "time_zone": "Europe/Lisbon",
            "check_in_time": "15:00",
            "check_out_time": "11:00",
            "turnover_holder": "Marta (cleaner)",
            "turnover_max_hours": "8",
            **changes,
        },
    )


def test_turning_on_turnover_codes_gives_the_cleaner_a_code_after_each_stay(signed_in, world):
    token = csrf_of(signed_in, f"/properties/{world.flat.id}/edit")
    saved = signed_in.post(f"/properties/{world.flat.id}/edit", data=turnover_form(token))
    assert saved.url.path == f"/properties/{world.flat.id}"
    codes = words(signed_in.get("/codes").text)
    assert "Marta (cleaner) staff scheduled Thu 26 Nov 2026, 11:00 Thu 26 Nov 2026, 19:00" in codes


def test_a_bad_turnover_cap_comes_back_with_the_reason_and_changes_nothing(
    signed_in, world, runtime
):
    token = csrf_of(signed_in, f"/properties/{world.flat.id}/edit")
    before = database_dump(runtime)
    page = signed_in.post(
        f"/properties/{world.flat.id}/edit", data=turnover_form(token, turnover_max_hours="0")
    )
    assert page.status_code == 422
    assert "turnover max hours: must be a whole number from 1 to 336" in alert_of(page.text)
    assert database_dump(runtime) == before
