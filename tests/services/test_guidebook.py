"""The guidebook: codes only in their window, one stay per token, and what guests report."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from doorcode.domain.guidebook import GuideStage
from doorcode.domain.messages import ChannelName
from doorcode.services.errors import InvalidRequest
from doorcode.services.grants import regenerate_code
from doorcode.services.guidebook import (
    GuideNotFound,
    open_guidebook,
    report_arrival,
    report_code_problem,
    report_departure,
)
from doorcode.services.host_contact import HostContact, set_host_contact
from doorcode.services.properties import change_property
from doorcode.store.models import Alert, Event, HostNotice
from tests.builders import book, guide_token_of, make_owner, make_property

CHANNELS = frozenset({ChannelName.EMAIL, ChannelName.CONSOLE})
HERE = "203.0.113.7"


@pytest.fixture
def stay(runtime):
    """Check-in Wed 25 Nov 15:00 Lisbon; the clock says Mon 23 Nov 09:00."""
    owner = make_owner(runtime)
    set_host_contact(runtime.uow(), owner, HostContact("Marta", "marta@acme.example", "+351 210"))
    flat = make_property(runtime, owner, "Flat 1", time_zone="Europe/Lisbon")
    booked = book(runtime, owner, flat, "B-1", date(2026, 11, 25), date(2026, 11, 28))
    return owner, booked.reservation, booked.grant


def rows(runtime, model, **where):
    with runtime.uow() as uow:
        query = select(model).filter_by(**where)
        return list(uow.session.scalars(query))


def code_of(runtime, grant):
    with runtime.uow() as uow:
        return uow.grants.code_of(uow.grants.get(grant.organisation_id, grant.id))


def test_before_the_reveal_time_the_guidebook_says_when_codes_appear(runtime, stay):
    _owner, reservation, _grant = stay
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert view.stage is GuideStage.WAITING
    assert view.codes == []
    assert view.reveal_at.isoformat() == "2026-11-23T15:00:00+00:00"
    assert not view.may_report_arrival
    assert not view.may_report_problem


def test_from_the_reveal_time_the_codes_show_and_the_first_showing_is_recorded(
    runtime, stay, clock
):
    owner, reservation, grant = stay
    clock.advance(hours=6)
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert view.stage is GuideStage.READY
    assert [(access.lock_name, access.code) for access in view.codes] == [
        ("Flat 1 door", code_of(runtime, grant))
    ]
    open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert len(rows(runtime, Event, kind="GuidebookCodesShown")) == 1
    regenerate_code(runtime.uow(), owner, grant.id)
    open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    [first, second] = rows(runtime, Event, kind="GuidebookCodesShown")
    assert (first.details, second.details) == ({"after": {"version": 1}}, {"after": {"version": 2}})
    assert first.actor == f"guest:{reservation.id}"


def test_after_check_out_no_code_is_shown(runtime, stay, clock):
    _owner, reservation, _grant = stay
    clock.advance(days=5, hours=3)  # Sat 28 Nov 12:00
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert view.stage is GuideStage.OVER
    assert view.codes == []
    assert view.may_report_departure
    assert not view.may_report_arrival


def test_arriving_is_recorded_once_and_the_host_told_on_every_channel(runtime, stay, clock):
    _owner, reservation, grant = stay
    clock.advance(days=2, hours=7)  # Wed 25 Nov 16:00
    report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    [event] = rows(runtime, Event, kind="GuestArrived")
    assert (event.subject_id, event.actor) == (reservation.id, f"guest:{reservation.id}")
    notices = rows(runtime, HostNotice, kind="guest_arrived")
    assert sorted((n.channel, n.recipient) for n in notices) == [
        ("console", "marta@acme.example"),
        ("email", "marta@acme.example"),
    ]
    assert notices[0].text.startswith("Ada Lovelace has arrived at Flat 1.")
    assert code_of(runtime, grant) not in notices[0].text
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert view.arrived_at == clock.now
    assert not view.may_report_arrival


def test_leaving_is_recorded_and_told_too(runtime, stay, clock):
    _owner, reservation, _grant = stay
    clock.advance(days=5)  # Sat 28 Nov 09:00, before check-out
    report_departure(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    assert len(rows(runtime, Event, kind="GuestLeft")) == 1
    assert rows(runtime, HostNotice, kind="guest_left")[0].subject.startswith("Flat 1: ")


def test_reports_out_of_their_time_are_refused(runtime, stay):
    _owner, reservation, _grant = stay
    with pytest.raises(InvalidRequest):
        report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    with pytest.raises(InvalidRequest):
        report_departure(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    assert rows(runtime, HostNotice) == []


def test_a_code_problem_without_a_backup_raises_an_alert_and_tells_the_host(runtime, stay, clock):
    _owner, reservation, grant = stay
    clock.advance(days=2, hours=7)
    outcome = report_code_problem(
        runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS
    )
    assert not outcome.backup_released
    [alert] = rows(runtime, Alert, kind="GuestReportedCodeProblem", cleared_at=None)
    assert "does not work (no backup code)" in alert.message
    notice = rows(runtime, HostNotice, kind="code_problem", channel="email")[0]
    assert "There is no backup code" in notice.text
    assert "Flat 1 door: pending" in notice.text
    assert "Guest contact: ada@example.org" in notice.text
    assert code_of(runtime, grant) not in notice.text
    report_code_problem(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    assert len(rows(runtime, HostNotice, kind="code_problem")) == 2  # one per channel, once
    report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    # Saying "I am in" is no proof the code works: the host still sees the problem on Today.
    assert len(rows(runtime, Alert, kind="GuestReportedCodeProblem", cleared_at=None)) == 1


def test_arrival_before_check_in_is_refused_and_records_nothing(runtime, stay, clock):
    _owner, reservation, _grant = stay
    clock.advance(days=1, hours=20)  # the code shows already; check-in is hours away
    before = (rows(runtime, HostNotice), rows(runtime, Event, kind="GuestArrived"))
    with pytest.raises(InvalidRequest, match="from check-in"):
        report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS)
    assert (rows(runtime, HostNotice), rows(runtime, Event, kind="GuestArrived")) == before


def test_a_code_problem_releases_the_propertys_backup_code_into_the_guidebook(runtime, stay, clock):
    owner, reservation, grant = stay
    change_property(runtime.uow(), owner, reservation.property_id, {"backup_codes": True})
    clock.advance(days=2, hours=7)
    outcome = report_code_problem(
        runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS
    )
    assert outcome.backup_released
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    [backup] = view.backup_codes
    assert backup.code not in (None, code_of(runtime, grant))
    notice = rows(runtime, HostNotice, kind="code_problem", channel="email")[0]
    assert "A backup code was released" in notice.text
    assert backup.code not in notice.text


def test_a_failing_releaser_still_tells_the_host(runtime, stay, clock):
    _owner, reservation, _grant = stay
    clock.advance(days=2, hours=7)

    def refuse(_uow, _caller, _reservation_id):
        raise InvalidRequest("the property has no backup code")

    outcome = report_code_problem(
        runtime.uow(), guide_token_of(runtime, reservation), HERE, CHANNELS, refuse
    )
    assert not outcome.backup_released
    assert len(rows(runtime, HostNotice, kind="code_problem")) == 2


def test_a_host_no_channel_reaches_is_an_alert(runtime, stay, clock):
    _owner, reservation, _grant = stay
    clock.advance(days=2, hours=7)
    report_arrival(runtime.uow(), guide_token_of(runtime, reservation), HERE, frozenset())
    [alert] = rows(runtime, Alert, kind="HostNotReachable")
    assert "no configured channel reaches the host" in alert.message
    assert rows(runtime, HostNotice) == []


def test_unknown_and_cancelled_links_are_not_found_and_counted(runtime, stay):
    with pytest.raises(GuideNotFound):
        open_guidebook(runtime.uow(), "not-a-token-at-all-0123456789", HERE)
    with pytest.raises(GuideNotFound):
        open_guidebook(runtime.uow(), "short", HERE)
    with runtime.uow() as uow:
        assert uow.failed_attempts.count_since("guidebook", f"address:{HERE}", uow.now) == 2


def test_the_window_is_the_grants_so_an_early_check_in_shows_codes_earlier(runtime, clock):
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat 2", time_zone="UTC")
    early = book(
        runtime, owner, flat, "E-1", date(2026, 11, 25), date(2026, 11, 26), check_in_at=None
    )
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, early.reservation), HERE)
    assert view.check_in == early.grant.starts_at
    assert view.reveal_at == early.grant.starts_at - timedelta(hours=48)


def test_a_revoked_code_leaves_the_guidebook_though_the_stay_is_still_booked(runtime, stay, clock):
    from doorcode.services.grants import revoke_grant

    owner, reservation, grant = stay
    clock.advance(days=2, hours=8)  # during the stay
    assert open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE).codes
    revoke_grant(runtime.uow(), owner, grant.id, "the code was shared")
    view = open_guidebook(runtime.uow(), guide_token_of(runtime, reservation), HERE)
    assert view.codes == []
    assert code_of(runtime, grant) not in repr(view)
