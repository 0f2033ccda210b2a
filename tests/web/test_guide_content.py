"""The guidebook's own pages: written by the host in Markdown, shown sanitised to the guest,
with each door's notes and the fixed wording in the guest's language."""

import html
from datetime import UTC, date, datetime

from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.services.reservations import Guest, ReservationDetails, record_reservation
from tests.api.conftest import database_dump
from tests.builders import guide_token_of
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_dashboard_pages import alert_of, words

WIFI = "Network **Flat1-Guest**, password `sunny-day`<script>alert(1)</script>"


def guide_form(token, world, **changes):
    [door] = world.flat.locks
    return {
        "csrf_token": token,
        "wifi": WIFI,
        "directions": "Metro *Baixa-Chiado*, then [the map](https://maps.example/flat1).",
        "parking": "",
        "house_rules": "- No parties\n- Quiet after 22:00",
        "check_out": "Leave the keys on the table.",
        f"arrival_{door.id}": "The green door on the left; press **✓** after the code.",
        f"departure_{door.id}": "Pull it shut behind you.",
        **changes,
    }


def test_the_guest_reads_the_hosts_pages_sanitised_with_each_doors_notes(
    signed_in, client, world, clock
):
    token = csrf_of(signed_in, f"/properties/{world.flat.id}/guidebook")
    saved = signed_in.post(f"/properties/{world.flat.id}/guidebook", data=guide_form(token, world))
    assert saved.url.path == f"/properties/{world.flat.id}"
    clock.now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    page = client.get(f"/guide/{world.stay_token}").text
    assert "Network <strong>Flat1-Guest</strong>, password <code>sunny-day</code>" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page  # shown as text, never run
    assert 'href="https://maps.example/flat1" rel="noopener noreferrer nofollow"' in page
    text = words(page)
    assert "Getting here Metro Baixa-Chiado" in text
    assert "House rules No parties Quiet after 22:00" in text
    assert "Flat 1 door" in text
    assert "The green door on the left; press ✓ after the code." in text
    assert "When you leave Flat 1 door Pull it shut behind you." in text


def test_wifi_is_shown_only_while_the_codes_are(signed_in, client, world, clock):
    token = csrf_of(signed_in, f"/properties/{world.flat.id}/guidebook")
    signed_in.post(f"/properties/{world.flat.id}/guidebook", data=guide_form(token, world))
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)  # before the codes are revealed
    page = words(client.get(f"/guide/{world.stay_token}").text)
    assert "Getting here" in page
    assert "Flat1-Guest" not in page


def test_a_portuguese_guest_reads_the_guidebook_in_portuguese(runtime, client, world, clock):
    details = ReservationDetails(
        "test", "PT-1", world.flat.id, ReservationStatus.CONFIRMED,
        Stay(date(2026, 11, 27), date(2026, 11, 29)),
        Guest("Inês Carvalho", "ines@example.pt", locale="pt-PT"),
    )  # fmt: skip
    booked = record_reservation(runtime.uow(), world.owner, details).reservation
    clock.now = datetime(2026, 11, 27, 16, tzinfo=UTC)
    page = client.get(f"/guide/{guide_token_of(runtime, booked)}")
    assert '<html lang="pt">' in page.text
    text = words(page.text)
    assert "Olá Inês, bem-vindo/a a Flat 1" in text
    assert "O seu código da porta" in text
    assert "Já cheguei" in text
    assert "Your door code" not in text
    assert "nov. de 2026" in text or "nov. 2026" in text


def test_a_text_too_long_is_refused_and_nothing_changes(signed_in, world, runtime):
    token = csrf_of(signed_in, f"/properties/{world.flat.id}/guidebook")
    before = database_dump(runtime)
    page = signed_in.post(
        f"/properties/{world.flat.id}/guidebook",
        data=guide_form(token, world, house_rules="x" * 5001),
    )
    assert page.status_code == 422
    assert alert_of(page.text) == "house rules: at most 5000 characters"
    assert html.escape("x" * 10) in page.text  # the form comes back as sent
    assert database_dump(runtime) == before


def test_a_viewer_cannot_change_the_guidebook(client, world, runtime):
    sign_in(client, "viewer")
    assert client.get(f"/properties/{world.flat.id}/guidebook").status_code == 403
    token = csrf_of(client, "/")
    before = database_dump(runtime)
    answer = client.post(f"/properties/{world.flat.id}/guidebook", data=guide_form(token, world))
    assert answer.status_code == 403
    assert database_dump(runtime) == before
