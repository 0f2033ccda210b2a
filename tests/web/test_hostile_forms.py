"""The dashboard's forms against what a hurried or hostile user sends: every bad value is
refused with a reason naming its field, the form comes back as it was typed, and nothing
stored changes."""

import html
import re
from datetime import date, time

import pytest

from doorcode.services.caller import Caller
from doorcode.services.provider_accounts import list_accounts
from doorcode.services.schedules import Frequency, ScheduleDetails, create_schedule
from tests.api.conftest import database_dump
from tests.builders import PASSWORD, make_lock
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_bookings import booking_form
from tests.web.test_dashboard_pages import alert_of, events_of, lock_form, property_form
from tests.web.test_guide_content import guide_form
from tests.web.test_schedule_pages import schedule_form

LONG = "Sea view " * 1_200  # a pasted document: 10,800 characters


def code_form(token, property_id, **changes):
    return {
        "csrf_token": token,
        "kind": "staff",
        "holder": "Marta (cleaner)",
        "property": property_id,
        "starts_at": "2026-11-24T10:00",
        "ends_at": "2026-11-24T12:00",
        **changes,
    }


def form_of(world, token, route, **changes):
    """Where ``route``'s form is sent, and a valid one with ``changes`` over it."""
    flat = world.flat.id
    return {
        "booking": lambda: ("/reservations", booking_form(token, flat, **changes)),
        "booking edit": lambda: (
            f"/reservations/{world.stay.id}/edit",
            booking_form(token, flat, check_in="2026-11-23", check_out="2026-11-26", **changes),
        ),
        "code": lambda: ("/codes", code_form(token, flat, **changes)),
        "schedule": lambda: ("/schedules", schedule_form(token, flat, **changes)),
        "property": lambda: ("/properties", property_form(token, **changes)),
        "property edit": lambda: (f"/properties/{flat}/edit", property_form(token, **changes)),
        "lock": lambda: ("/locks", lock_form(token, **changes)),
        "lock edit": lambda: (f"/locks/{world.flat.locks[0].id}/edit", lock_form(token, **changes)),
    }[route]()


@pytest.mark.parametrize(
    ("route", "field", "value", "kept"),
    [
        ("booking", "guest_name", LONG, "rui@example.pt"),
        ("booking", "check_in", "\x00", "Rui Costa"),
        ("booking edit", "guest_phone", LONG, "Rui Costa"),
        ("code", "holder", LONG, "2026-11-24T10:00"),
        ("schedule", "except_days", ", ".join(["2027-03-30"] * 400), "Marta (cleaner)"),
        ("property", "address", LONG, "Europe/Madrid"),
        ("property edit", "name", "Villa\x00", "Europe/Madrid"),
        ("lock", "name", LONG, 'value="8"'),
        ("lock edit", "max_codes", "9" * 3_000, 'value="Shed"'),
    ],
)
def test_a_form_refused_for_a_huge_or_nul_value_comes_back_with_what_was_typed(
    signed_in, world, runtime, route, field, value, kept
):
    token = csrf_of(signed_in)
    path, data = form_of(world, token, route, **{field: value})
    before = database_dump(runtime)
    page = signed_in.post(path, data=data)
    assert page.status_code == 422
    assert html.unescape(alert_of(page.text)).startswith(field.replace("_", " ") + ":")
    assert f'name="{field}"' in page.text  # the form, not an error page
    assert kept in page.text
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    ("route", "field", "most"),
    [
        ("booking", "guest_name", 200),
        ("booking", "reference", 200),
        ("booking", "guest_email", 320),
        ("booking", "guest_phone", 40),
        ("booking edit", "guest_name", 200),
        ("code", "holder", 200),
        ("schedule", "holder", 200),
        ("property", "name", 200),
        ("property", "address", 500),
        ("property edit", "turnover_holder", 200),
        ("lock", "name", 200),
        ("lock edit", "name", 200),
    ],
)
def test_a_value_longer_than_its_field_is_refused_not_silently_cut(
    signed_in, world, runtime, route, field, most
):
    value = {
        "guest_email": "a" * most + "@example.pt",
        "guest_phone": "+351 " + "9" * most,
    }.get(field, "x" * (most + 1))
    token = csrf_of(signed_in)
    path, data = form_of(world, token, route, **{field: value})
    before = database_dump(runtime)
    page = signed_in.post(path, data=data)
    assert page.status_code == 422
    reason = html.unescape(alert_of(page.text))
    assert reason.startswith(field.replace("_", " ") + ":"), reason
    assert f"at most {most:,} characters" in reason, reason
    assert database_dump(runtime) == before
    assert value in page.text


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("wifi", "wifi: may not contain the NUL character"),
        ("arrival", "Flat 1 door, arrival note: may not contain the NUL character"),
        ("departure", "Flat 1 door, departure note: at most 5000 characters"),
    ],
)
def test_a_guidebook_text_with_a_nul_or_too_long_is_refused_naming_the_text(
    signed_in, world, runtime, field, reason
):
    door = world.flat.locks[0].id
    name = field if field == "wifi" else f"{field}_{door}"
    value = "x" * 5_001 if "at most" in reason else "Net: flat1\x00 pass"
    token = csrf_of(signed_in)
    before = database_dump(runtime)
    page = signed_in.post(
        f"/properties/{world.flat.id}/guidebook", data=guide_form(token, world, **{name: value})
    )
    assert page.status_code == 422
    assert html.unescape(alert_of(page.text)) == reason
    assert "Pull it shut behind you." in page.text or field == "departure"
    assert database_dump(runtime) == before


@pytest.mark.parametrize("back", ["x" * 3_000, "reservation\x00"])
def test_a_reveal_is_audited_only_when_the_code_is_shown(signed_in, world, runtime, back):
    token = csrf_of(signed_in, f"/grants/{world.grant_id}")
    page = signed_in.post(
        f"/grants/{world.grant_id}/reveal", data={"csrf_token": token, "back": back}
    )
    assert page.status_code == 200
    assert '<code class="code">' in page.text
    assert len(events_of(runtime, "GrantCodeRevealed")) == 1


def test_a_malformed_back_field_does_not_turn_a_done_revoke_into_an_error(signed_in, world):
    token = csrf_of(signed_in, f"/grants/{world.grant_id}")
    page = signed_in.post(
        f"/grants/{world.grant_id}/revoke",
        data={"csrf_token": token, "back": "x" * 3_000},
        follow_redirects=False,
    )
    assert page.status_code == 303
    assert page.headers["location"] == f"/grants/{world.grant_id}"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/reservations?page=abc", "page"),
        ("/audit?page=2.5", "page"),
        ("/codes?include_past=maybe", "include past"),
    ],
)
def test_a_malformed_query_parameter_is_named_on_the_error_page(signed_in, world, path, field):
    page = signed_in.get(path)
    assert page.status_code == 400
    [message] = re.findall(r"<p>([^<]*)</p>", page.text)
    assert html.unescape(message).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("path", "field"), [("/search?q=%00", "q"), ("/reservations?page=1%00", "page")]
)
def test_a_nul_in_a_query_parameter_is_named_on_an_error_page_not_in_json(
    signed_in, world, path, field
):
    # The NUL check runs before any route, and answered every path as the API does: JSON.
    page = signed_in.get(path)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    [message] = re.findall(r"<p>([^<]*)</p>", page.text)
    assert html.unescape(message) == f"{field}: text may not contain the NUL character"


def test_a_nul_in_the_apis_query_is_still_answered_in_json(signed_in, world):
    answer = signed_in.get("/api/v1/reservations?cursor=%00")
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_text")


@pytest.mark.parametrize("path", ["/reservations?page=-3", "/audit?page=999999999999"])
def test_a_page_number_out_of_range_shows_the_nearest_page(signed_in, world, path):
    assert signed_in.get(path).status_code == 200


@pytest.mark.parametrize(
    ("route", "field", "label"),
    [
        ("booking", "check_in_at", "check in time"),
        ("property", "check_in_time", "check in time"),
        ("schedule", "starts", "starts"),
    ],
)
def test_a_time_typed_with_an_offset_is_refused_not_read_without_it(
    signed_in, world, runtime, route, field, label
):
    token = csrf_of(signed_in)
    path, data = form_of(world, token, route, **{field: "15:00+05:00"})
    before = database_dump(runtime)
    page = signed_in.post(path, data=data)
    assert page.status_code == 422
    assert html.unescape(alert_of(page.text)).startswith(f"{label}: must not carry an offset")
    assert 'value="15:00+05:00"' in page.text
    assert database_dump(runtime) == before


@pytest.mark.parametrize("route", ["code", "property", "property edit", "lock", "lock edit"])
def test_a_viewer_sending_a_valid_form_is_told_not_allowed(client, world, runtime, route):
    assert sign_in(client, "viewer").status_code == 303
    path, data = form_of(world, csrf_of(client), route)
    before = database_dump(runtime)
    page = client.post(path, data=data)
    assert page.status_code == 403
    assert "Not allowed" in page.text
    assert database_dump(runtime) == before


def test_only_an_owner_may_remove_a_lock_account(client, world):
    assert sign_in(client, "manager").status_code == 303
    page = client.post("/accounts/acc_any/remove", data={"csrf_token": csrf_of(client)})
    assert page.status_code == 403


def schedule_of(runtime, caller: Caller, property_id: str) -> str:
    """A daily cleaner's schedule at ``property_id``, made by ``caller``; its id."""
    details = ScheduleDetails(
        "Their cleaner",
        (property_id,),
        Frequency.DAILY,
        time(10),
        time(12),
        date(2026, 11, 24),
        date(2026, 11, 30),
    )
    return create_schedule(runtime.uow(), caller, details).id


def test_another_organisations_lock_schedule_or_property_is_not_found_by_its_edit_form(
    signed_in, world, runtime
):
    theirs = make_lock(runtime, world.stranger, "Their door")
    their_schedule = schedule_of(runtime, world.stranger, world.their_stay.property_id)
    their_property = world.their_stay.property_id
    token = csrf_of(signed_in)
    before = database_dump(runtime)
    pages = [
        signed_in.post(f"/locks/{theirs.id}/edit", data=lock_form(token)),
        signed_in.post(
            f"/schedules/{their_schedule}/edit", data=schedule_form(token, world.flat.id)
        ),
        signed_in.post(f"/properties/{their_property}/edit", data=property_form(token)),
    ]
    assert [page.status_code for page in pages] == [404, 404, 404]
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("owner\x00", PASSWORD, "username: may not contain the NUL character"),
        ("o" * 3_000, PASSWORD, "username: is too long (at most 200 characters)"),
        ("owner", "p" * 3_000, "password: is too long (at most 1,024 characters)"),
    ],
)
def test_a_malformed_sign_in_comes_back_as_the_sign_in_form_with_the_reason(
    client, world, username, password, reason
):
    token = csrf_of(client, "/sign-in")
    page = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/x"},
    )
    assert page.status_code == 422
    assert html.unescape(alert_of(page.text)) == reason
    assert 'name="password"' in page.text
    assert "doorcode_session" not in page.cookies


@pytest.mark.parametrize("sent", ["x" * 3_000, "\x00"])
def test_a_malformed_sign_in_token_is_a_refused_form(client, world, sent):
    csrf_of(client, "/sign-in")
    page = client.post(
        "/sign-in", data={"username": "owner", "password": PASSWORD, "csrf_token": sent}
    )
    assert page.status_code == 403


def test_a_malformed_account_kind_is_refused_on_the_accounts_page(signed_in, world, runtime):
    before = database_dump(runtime)
    page = signed_in.post(
        "/accounts", data={"csrf_token": csrf_of(signed_in), "kind": "seam\x00", "label": "Main"}
    )
    assert page.status_code == 422
    assert html.unescape(alert_of(page.text)) == "kind: may not contain the NUL character"
    assert database_dump(runtime) == before


@pytest.mark.parametrize("route", ["lock", "lock edit"])
def test_a_ticked_box_sent_with_a_nul_is_a_box_not_ticked_not_an_error_page(
    signed_in, world, runtime, route
):
    # A checkbox's value is compared, never kept: it went through the text rule, so a NUL
    # there raised while the refused form was being shown again, and the form was lost.
    token = csrf_of(signed_in)
    path, data = form_of(world, token, route, online="\x00", name="")
    page = signed_in.post(path, data=data)
    assert page.status_code == 422
    assert 'name="online"' in page.text  # the form again, for the blank name
    assert html.unescape(alert_of(page.text)).startswith("name:")


def their_form(world, runtime, token, route, **changes):
    """Where ``route``'s form is sent naming another organisation's object (in its path or in
    a field), and the form, valid but for ``changes``."""
    their_property = world.their_stay.property_id
    ours = world.flat.id
    return {
        "booking": lambda: ("/reservations", booking_form(token, their_property, **changes)),
        "booking for a made-up property": lambda: (
            "/reservations",
            booking_form(token, "nowhere", **changes),
        ),
        "booking edit": lambda: (
            f"/reservations/{world.their_stay.id}/edit",
            booking_form(token, "", check_in="2026-11-23", check_out="2026-11-26", **changes),
        ),
        "code": lambda: ("/codes", code_form(token, their_property, **changes)),
        "code on their lock": lambda: (
            "/codes",
            code_form(token, "", locks=[make_lock(runtime, world.stranger, "Gate").id], **changes),
        ),
        "schedule": lambda: ("/schedules", schedule_form(token, their_property, **changes)),
        "schedule edit": lambda: (
            f"/schedules/{schedule_of(runtime, world.stranger, their_property)}/edit",
            schedule_form(token, ours, **changes),
        ),
        "schedule edit to their property": lambda: (
            f"/schedules/{schedule_of(runtime, world.owner, ours)}/edit",
            schedule_form(token, their_property, **changes),
        ),
        "property edit": lambda: (
            f"/properties/{their_property}/edit",
            property_form(token, **changes),
        ),
        "guidebook": lambda: (
            f"/properties/{their_property}/guidebook",
            guide_form(token, world, **changes),
        ),
        "lock edit": lambda: (
            f"/locks/{make_lock(runtime, world.stranger, 'Gate').id}/edit",
            lock_form(token, **changes),
        ),
        "account remove": lambda: (
            f"/accounts/{list_accounts(runtime.uow(), world.stranger)[0].id}/remove",
            {"csrf_token": token, **changes},
        ),
    }[route]()


def assert_not_found_and_nothing_changed(client, runtime, path, data):
    before = database_dump(runtime)
    page = client.post(path, data=data)
    assert page.status_code == 404, alert_of(page.text)
    assert "<h1>Not found</h1>" in page.text
    assert alert_of(page.text) == ""  # the error page, not the form with a notice
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    "route",
    [
        "booking",
        "booking for a made-up property",
        "booking edit",
        "code",
        "code on their lock",
        "schedule",
        "schedule edit",
        "schedule edit to their property",
        "property edit",
        "guidebook",
        "lock edit",
        "account remove",
    ],
)
def test_a_form_naming_another_organisations_object_is_not_found_and_changes_nothing(
    signed_in, world, runtime, route
):
    # Shown again as a form error ("no property ..."), it read as a typing mistake, and the
    # form for another organisation's object came back as if it could be saved.
    path, data = their_form(world, runtime, csrf_of(signed_in), route)
    assert_not_found_and_nothing_changed(signed_in, runtime, path, data)


@pytest.mark.parametrize(
    ("route", "field", "value"),
    [
        ("booking edit", "guest_name", "\x00"),
        ("schedule edit", "holder", ""),
        ("property edit", "name", "Villa\x00"),
        ("guidebook", "wifi", "\x00"),
        ("lock edit", "max_codes", "9" * 3_000),
    ],
)
def test_another_organisations_object_is_not_found_whatever_its_form_holds(
    signed_in, world, runtime, route, field, value
):
    path, data = their_form(world, runtime, csrf_of(signed_in), route, **{field: value})
    assert_not_found_and_nothing_changed(signed_in, runtime, path, data)


def write_form(world, runtime, token, route, **changes):
    """Where ``route``'s form is sent, and a valid one with ``changes`` over it: the forms of
    ``form_of`` and the dashboard's other forms that change something."""
    door = world.flat.locks[0].id
    reason = {"csrf_token": token, "reason": "no longer needed", **changes}
    return {
        "schedule edit": lambda: (
            f"/schedules/{schedule_of(runtime, world.owner, world.flat.id)}/edit",
            schedule_form(token, world.flat.id, **changes),
        ),
        "schedule revoke": lambda: (
            f"/schedules/{schedule_of(runtime, world.owner, world.flat.id)}/revoke",
            reason,
        ),
        "guidebook": lambda: (
            f"/properties/{world.flat.id}/guidebook",
            guide_form(token, world, **changes),
        ),
        "booking cancel": lambda: (f"/reservations/{world.stay.id}/cancel", reason),
        "code revoke": lambda: (f"/grants/{world.grant_id}/revoke", reason),
        "code regenerate": lambda: (f"/grants/{world.grant_id}/regenerate", reason),
        "lock link": lambda: (
            f"/properties/{world.flat.id}/locks",
            {"csrf_token": token, "lock_id": make_lock(runtime, world.owner, "Gate").id, **changes},
        ),
        "lock unlink": lambda: (f"/properties/{world.flat.id}/locks/{door}/unlink", reason),
    }.get(route, lambda: form_of(world, token, route, **changes))()


@pytest.mark.parametrize(
    ("route", "malformed"),
    [
        ("booking", {"guest_name": "\x00"}),
        ("booking edit", {"guest_count": "0"}),
        ("booking cancel", {"reason": LONG}),
        ("code", {"holder": LONG}),
        ("code revoke", {"reason": LONG}),
        ("code regenerate", {"back": "\x00"}),
        ("schedule", {"holder": ""}),
        ("schedule edit", {"weekdays": ["8"]}),
        ("schedule revoke", {"reason": LONG}),
        ("property", {"name": ""}),
        ("property edit", {"time_zone": "Mars/Olympus"}),
        ("guidebook", {"wifi": "\x00"}),
        ("lock", {"name": ""}),
        ("lock edit", {"max_codes": "many"}),
        ("lock link", {"lock_id": ""}),
        ("lock unlink", {"reason": "\x00"}),
    ],
)
@pytest.mark.parametrize("sent", ["valid", "malformed"])
def test_a_viewers_post_to_a_form_that_changes_something_is_not_allowed_whatever_it_holds(
    client, world, runtime, route, malformed, sent
):
    # A viewer's malformed cancel, revoke or link came back 422 naming the field, as if
    # correcting it would do.
    assert sign_in(client, "viewer").status_code == 303
    changes = malformed if sent == "malformed" else {}
    path, data = write_form(world, runtime, csrf_of(client), route, **changes)
    before = database_dump(runtime)
    page = client.post(path, data=data)
    assert page.status_code == 403, alert_of(page.text)
    assert "<h1>Not allowed</h1>" in page.text
    assert database_dump(runtime) == before


@pytest.mark.parametrize(
    "path",
    [
        "/reservations/new",
        "/reservations/{stay}/edit",
        "/reservations/{stay}/cancel",
        "/codes/new",
        "/grants/{grant}/revoke",
        "/grants/{grant}/regenerate",
        "/schedules/new",
        "/schedules/{schedule}/edit",
        "/properties/new",
        "/properties/{flat}/edit",
        "/properties/{flat}/guidebook",
        "/locks/new",
        "/locks/{door}/edit",
    ],
)
def test_a_viewer_is_not_shown_a_form_that_changes_something(client, world, runtime, path):
    # The new-code form was shown to a viewer, who could fill it in only to be refused.
    schedule = schedule_of(runtime, world.owner, world.flat.id)
    assert sign_in(client, "viewer").status_code == 303
    page = client.get(
        path.format(
            stay=world.stay.id,
            grant=world.grant_id,
            schedule=schedule,
            flat=world.flat.id,
            door=world.flat.locks[0].id,
        )
    )
    assert page.status_code == 403
    assert "<h1>Not allowed</h1>" in page.text
