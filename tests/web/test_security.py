"""The pages' defences: sessions, CSRF, fixation, open redirects, rate limits, tenants, guests."""

import re
import secrets
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from doorcode.api.app import create_app
from doorcode.services.reservations import cancel_reservation
from doorcode.store.models import Event, Reservation
from doorcode.web.app import PAGE_ROUTERS
from doorcode.web.routing import PageRoute
from tests.api.conftest import database_dump
from tests.builders import PASSWORD
from tests.web.conftest import csrf_of, sign_in

PUBLIC = ("/sign-in", "/guide/")


def dashboard_routes(_app=None):
    """Every (method, path) of the dashboard, path parameters filled in."""
    found = []
    for route in (route for router in PAGE_ROUTERS for route in router.routes):
        if not isinstance(route, PageRoute) or route.path.startswith(PUBLIC):
            continue
        path = re.sub(r"\{[^}]+\}", "nothing_here", route.path)
        found.extend((method, path) for method in sorted(route.methods))
    return found


def test_the_dashboard_has_the_routes_the_issue_asks_for(app):
    paths = {path for _method, path in dashboard_routes(app)}
    assert {"/", "/reservations", "/codes", "/codes/new", "/properties", "/locks"} <= paths
    assert {"/timeline", "/audit", "/grants/nothing_here/revoke"} <= paths
    assert len(dashboard_routes(app)) >= 25


def test_without_a_session_every_page_sends_to_sign_in_and_every_post_is_401(client, world):
    for method, path in dashboard_routes(client.app):
        answer = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/sign-in?next=%2F"), path
        else:
            assert answer.status_code == 401, (method, path)
            assert "sign in again" in answer.text


@pytest.mark.parametrize("cookie", ["made-up", "A" * 43, "x" * 500, ""])
def test_a_forged_session_cookie_is_no_session(client, world, cookie):
    client.cookies.set("doorcode_session", cookie)
    answer = client.get("/reservations", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Freservations"


def test_signing_in_then_following_next_returns_to_the_page(client, world):
    answer = client.get("/reservations?status=confirmed", follow_redirects=False)
    target = answer.headers["location"].split("next=")[1]
    signed = sign_in(client, "owner", next="/reservations?status=confirmed")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/reservations?status=confirmed"
    assert target == "%2Freservations%3Fstatus%3Dconfirmed"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/%0d%0aLocation: https://evil.example",
        " https://evil.example",
        "evil.example",
    ],
)
def test_next_never_leads_off_the_site(client, world, target):
    answer = sign_in(client, "owner", next=target)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "evil" not in location or location.startswith("/%")
    again = client.get(f"/sign-in?next={target}", follow_redirects=False)
    assert again.headers["location"] in ("/", location)


def test_a_session_id_planted_before_sign_in_never_becomes_a_signed_in_one(client, world):
    planted = "chosen-by-an-attacker-" + "x" * 21
    client.cookies.set("doorcode_session", planted)
    answer = sign_in(client, "owner")
    assert answer.status_code == 303
    assert answer.cookies["doorcode_session"] != planted
    attacker = TestClient(client.app, cookies={"doorcode_session": planted})
    assert attacker.get("/", follow_redirects=False).status_code == 303


def test_signing_in_issues_a_new_session_id_and_ends_the_one_presented(client, world):
    assert sign_in(client, "manager").status_code == 303
    old = client.cookies["doorcode_session"]
    client.cookies.delete("doorcode_session")
    token = csrf_of(client, "/sign-in")  # the form as a signed-out browser gets it
    client.cookies.set("doorcode_session", old)
    answer = client.post(
        "/sign-in",
        data={"username": "owner", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    fresh = answer.cookies["doorcode_session"]
    assert fresh != old
    stale = TestClient(client.app, cookies={"doorcode_session": old})
    assert stale.get("/", follow_redirects=False).status_code == 303
    current = TestClient(client.app, cookies={"doorcode_session": fresh})
    assert "owner" in current.get("/", follow_redirects=False).text


def test_session_cookies_are_http_only_same_site_and_secure_over_https(runtime, world):
    plain = TestClient(create_app(runtime), base_url="http://testserver")
    cookie = sign_in(plain, "owner").headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    secure = TestClient(create_app(runtime), base_url="https://testserver")
    assert "Secure" in sign_in(secure, "owner").headers["set-cookie"]
    runtime.settings.public_url = "https://stays.example"  # TLS ends at a proxy in front
    behind_proxy = TestClient(create_app(runtime), base_url="http://testserver")
    assert "Secure" in behind_proxy.get("/sign-in").headers["set-cookie"]


def test_the_sign_in_form_needs_its_own_token(client, world):
    answer = client.post(
        "/sign-in",
        data={"username": "owner", "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "doorcode_session" not in answer.cookies
    csrf_of(client, "/sign-in")  # the cookie half exists now; the form half is still wrong
    forged = client.post(
        "/sign-in",
        data={"username": "owner", "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def post_routes(world):
    grant, flat, lock = world.grant_id, world.flat.id, world.flat.locks[0].id
    return [
        ("/sign-out", {}),
        (f"/grants/{grant}/reveal", {"back": "reservation"}),
        (f"/grants/{grant}/revoke", {"reason": "forged"}),
        (f"/grants/{grant}/regenerate", {}),
        (
            "/codes",
            {
                "kind": "staff",
                "property": flat,
                "starts_at": "2026-11-24T10:00",
                "ends_at": "2026-11-24T12:00",
            },
        ),
        ("/properties", {"name": "Forged", "time_zone": "UTC", "code_length": "6"}),
        (f"/properties/{flat}/edit", {"name": "Renamed"}),
        (f"/properties/{flat}/locks/{lock}/unlink", {}),
        (f"/locks/{lock}/edit", {"name": "Renamed", "min_length": "4", "max_length": "8"}),
        (f"/locks/{lock}/keypad", {"code": "123456"}),
        ("/locks", {"name": "Forged lock", "min_length": "4", "max_length": "8"}),
    ]


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_every_form_needs_the_sessions_token_and_a_refused_one_changes_nothing(
    signed_in, world, runtime, token
):
    before = database_dump(runtime)
    for path, data in post_routes(world):
        body = dict(data) if token is None else {**data, "csrf_token": token}
        answer = signed_in.post(path, data=body, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "Form refused" in answer.text
    assert database_dump(runtime) == before


def test_the_token_of_one_session_does_not_work_for_another(client, world, runtime):
    assert sign_in(client, "manager").status_code == 303
    theirs = csrf_of(client)
    client.cookies.clear()
    assert sign_in(client, "owner").status_code == 303
    before = database_dump(runtime)
    answer = client.post(f"/grants/{world.grant_id}/revoke", data={"csrf_token": theirs})
    assert answer.status_code == 403
    assert database_dump(runtime) == before


def test_signing_out_ends_the_session_on_the_server(signed_in, world):
    cookie = signed_in.cookies["doorcode_session"]
    assert signed_in.post("/sign-out", data={"csrf_token": csrf_of(signed_in)}).status_code == 200
    replay = TestClient(signed_in.app, cookies={"doorcode_session": cookie})
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, world, clock):
    for _ in range(5):
        assert sign_in(client, "owner", password="not the password!").status_code == 401
    locked = sign_in(client, "owner")
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.text
    assert int(locked.headers["Retry-After"]) == 900
    assert sign_in(client, "manager").status_code == 303  # other accounts still sign in
    client.cookies.clear()
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client, "owner").status_code == 303


def test_an_address_guessing_many_accounts_is_stopped_too(client, world):
    for number in range(20):
        assert sign_in(client, f"guess{number}", password="not the password!").status_code == 401
    assert sign_in(client, "owner").status_code == 429


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, world):
    wrong = sign_in(client, "owner", password="not the password!")
    unknown = sign_in(client, "nobody", password="not the password!")
    assert wrong.status_code == unknown.status_code == 401
    message = "The username or the password is wrong."
    assert message in wrong.text
    assert message in unknown.text


def test_a_viewer_sees_no_code_and_cannot_reveal_one(client, world, runtime):
    assert sign_in(client, "viewer").status_code == 303
    page = client.get(f"/reservations/{world.stay.id}")
    assert page.status_code == 200
    assert "Reveal code" not in page.text
    assert "Viewers never see codes." in page.text
    token = csrf_of(client)
    answer = client.post(f"/grants/{world.grant_id}/reveal", data={"csrf_token": token})
    assert answer.status_code == 403
    with runtime.uow() as uow:
        kinds = set(uow.session.scalars(select(Event.kind)))
    assert "GrantCodeRevealed" not in kinds
    revoke = client.post(f"/grants/{world.grant_id}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 403


def test_another_organisations_objects_are_not_found(client, world):
    assert sign_in(client, "mallory").status_code == 303
    for path in (
        f"/reservations/{world.stay.id}",
        f"/grants/{world.grant_id}",
        f"/properties/{world.flat.id}",
        f"/locks/{world.flat.locks[0].id}",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Ada" not in answer.text
    listing = client.get("/reservations").text
    assert "Eve Other" in listing
    assert "Ada Lovelace" not in listing


def test_pages_carry_a_strict_content_security_policy(signed_in, world):
    for path in ("/", f"/guide/{world.stay_token}", "/sign-in", "/static/doorcode.css"):
        headers = signed_in.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in signed_in.get("/healthz").headers


def test_a_guest_token_shows_that_stay_and_nothing_of_another(client, world, runtime):
    with runtime.uow() as uow:
        ours = uow.grants.code_of(uow.grants.guest_grant_of(world.stay.id))
        theirs = uow.grants.code_of(uow.grants.guest_grant_of(world.their_stay.id))
    mine = client.get(f"/guide/{world.stay_token}")
    assert mine.status_code == 200
    assert ours in mine.text
    assert "Flat 1" in mine.text
    for foreign in (theirs, "Eve", "Their villa", "Other"):
        assert foreign not in mine.text
    other = client.get(f"/guide/{world.their_token}")
    assert theirs in other.text
    assert ours not in other.text
    assert "Flat 1" not in other.text


def test_a_guest_acting_on_their_link_touches_only_their_stay(client, world, runtime, clock):
    clock.advance(hours=8)  # 17:00: their stay has begun, so arrival can be reported
    client.post(f"/guide/{world.their_token}/arrived")
    with runtime.uow() as uow:
        arrived = list(uow.session.scalars(select(Event).where(Event.kind == "GuestArrived")))
    assert [event.subject_id for event in arrived] == [world.their_stay.id]
    assert arrived[0].organisation_id == world.stranger.organisation_id


def test_unknown_cancelled_and_long_over_links_all_get_one_plain_page(
    client, world, runtime, clock
):
    cancel_reservation(runtime.uow(), world.stranger, world.their_stay.id)
    unknown = client.get("/guide/" + "x" * 32)
    cancelled = client.get(f"/guide/{world.their_token}")
    clock.now = datetime(2026, 12, 11, 12, tzinfo=UTC)  # two weeks after Ada's check-out
    over = client.get(f"/guide/{world.stay_token}")
    assert unknown.status_code == cancelled.status_code == over.status_code == 404
    assert unknown.text == cancelled.text == over.text
    assert "This link is not valid" in unknown.text
    for answer in (unknown, cancelled, over):
        assert "Ada" not in answer.text
        assert "Eve" not in answer.text
        assert answer.headers["cache-control"] == "no-store"


def test_only_the_token_itself_opens_a_guidebook_not_what_the_database_keeps(
    client, world, runtime
):
    """A copy of the database gives away neither the link nor anything that works as one."""
    with runtime.engine.connect() as connection:
        digest, encrypted = connection.execute(
            select(Reservation.guide_token_digest, Reservation.guide_token_encrypted).where(
                Reservation.id == world.stay.id
            )
        ).one()
    assert client.get(f"/guide/{world.stay_token}").status_code == 200
    wrong = world.stay_token[:-1] + ("A" if world.stay_token[-1] != "A" else "B")
    for presented in (wrong, secrets.token_urlsafe(24), digest, encrypted):
        answer = client.get(f"/guide/{presented}")
        assert answer.status_code == 404, presented
        assert "Ada" not in answer.text


def test_guessing_guidebook_links_is_limited_per_address(client, world, clock):
    for number in range(20):
        assert client.get(f"/guide/guess-{number:02d}-{'x' * 20}").status_code == 404
    blocked = client.get(f"/guide/{world.stay_token}")
    assert blocked.status_code == 429
    assert "Ada" not in blocked.text
    assert int(blocked.headers["Retry-After"]) == 600
    clock.advance(minutes=10, seconds=1)
    assert client.get(f"/guide/{world.stay_token}").status_code == 200


def test_a_guidebook_form_sent_from_another_site_is_refused(client, world, runtime):
    before = database_dump(runtime)
    answer = client.post(
        f"/guide/{world.stay_token}/arrived", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert answer.status_code == 403
    assert database_dump(runtime) == before


def test_access_log_lines_never_hold_a_guidebook_token(app, world):
    import logging

    line = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/guide/{world.stay_token}/arrived?x=1", "1.1", 303),
        None,
    )
    for each in logging.getLogger("uvicorn.access").filters:
        each.filter(line)
    assert world.stay_token not in line.getMessage()
    assert '"POST /guide/***/arrived?x=1 HTTP/1.1" 303' in line.getMessage()
