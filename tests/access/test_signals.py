"""What access events set off: alerts about codes that should not open, stuck guests, no-shows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from doorcode.domain.windows import TimeWindow
from doorcode.services.guidebook import report_code_problem
from doorcode.store.models import Alert, HostNotice
from tests.access.conftest import at_local
from tests.builders import guide_token_of


def open_alerts(runtime, kind):
    with runtime.uow() as uow:
        query = select(Alert).where(Alert.kind == kind, Alert.cleared_at.is_(None))
        return list(uow.session.scalars(query))


def notices(runtime, kind):
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(HostNotice).where(HostNotice.kind == kind)))


def test_an_opening_by_a_code_doorcode_did_not_set_is_an_alert_on_the_lock(stay, clock):
    stay.cloud.add_by_hand(stay.door.external_id, "Grandma", "135790")
    stay.cloud.enter(stay.door.external_id, "135790")
    stay.poll()
    [alert] = open_alerts(stay.runtime, "UnknownCodeOpened")
    assert (alert.subject_type, alert.subject_id) == ("lock", stay.door.id)
    assert "did not set" in alert.message
    assert "135790" not in alert.message


def test_an_opening_by_a_guest_code_outside_its_window_is_an_alert_on_the_grant(stay, clock):
    device = stay.door.external_id
    [ours] = stay.cloud.codes_on(device)
    early = TimeWindow(clock() - timedelta(hours=1), clock() + timedelta(days=3))
    stay.cloud.change_by_hand(device, ours.code_id, window=early)
    assert stay.cloud.enter(device, stay.code).opened  # 09:00, check-in is at 15:00
    stay.poll()
    [alert] = open_alerts(stay.runtime, "CodeOpenedOutsideWindow")
    assert (alert.subject_type, alert.subject_id) == ("grant", stay.grant_id)
    assert "outside its window" in alert.message
    assert not notices(stay.runtime, "guest_arrived")


def test_repeated_refusals_during_a_stay_point_at_the_backup_code_and_an_opening_clears_them(
    stay, clock
):
    clock.now = at_local(clock().date(), 16, 0)
    for _ in range(2):
        stay.cloud.enter(stay.door.external_id, "111111")
    stay.poll()
    assert open_alerts(stay.runtime, "RepeatedRefusals") == []
    stay.cloud.enter(stay.door.external_id, "111112")
    stay.poll()
    [alert] = open_alerts(stay.runtime, "RepeatedRefusals")
    assert (alert.subject_type, alert.subject_id) == ("reservation", stay.reservation.id)
    assert "backup code" in alert.message
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    assert open_alerts(stay.runtime, "RepeatedRefusals") == []


def test_refusals_outside_any_stay_raise_nothing(stay, clock):
    for _ in range(5):
        stay.cloud.enter(stay.door.external_id, "111111")  # 09:00, before check-in
    stay.poll()
    assert open_alerts(stay.runtime, "RepeatedRefusals") == []


def test_an_opening_clears_the_guests_report_that_the_code_does_not_work(stay, clock):
    clock.now = at_local(clock().date(), 15, 30)
    token = guide_token_of(stay.runtime, stay.reservation)
    report_code_problem(stay.runtime.uow(), token, "192.0.2.1", frozenset())
    assert open_alerts(stay.runtime, "GuestReportedCodeProblem")
    stay.cloud.enter(stay.door.external_id, stay.code)
    stay.poll()
    assert open_alerts(stay.runtime, "GuestReportedCodeProblem") == []


def test_no_opening_by_the_no_show_hour_tells_the_host_once(stay, clock):
    stay.cloud.enter(stay.street.external_id, "000001")  # the locks do report
    clock.now = at_local(clock().date(), 22, 59)
    stay.poll()
    assert notices(stay.runtime, "no_show") == []
    clock.now = at_local(clock().date(), 23, 1)
    stay.poll()
    stay.poll()
    told = notices(stay.runtime, "no_show")
    assert len(told) == 1
    assert "has not opened the door of Flat 1A" in told[0].text


def test_the_no_show_hour_is_the_propertys_own(stay, clock):
    with stay.runtime.uow() as uow:
        prop = uow.properties.get(stay.owner.organisation_id, stay.prop.id)
        prop.no_show_time = prop.no_show_time.replace(hour=20)
        uow.commit()
    stay.cloud.enter(stay.street.external_id, "000001")
    clock.now = at_local(clock().date(), 19, 59)
    stay.poll()
    assert notices(stay.runtime, "no_show") == []
    clock.now = at_local(clock().date(), 20, 30)
    stay.poll()
    assert len(notices(stay.runtime, "no_show")) == 1


def test_a_guest_who_opened_the_door_is_no_no_show(stay, clock):
    clock.now = at_local(clock().date(), 18, 0)
    stay.cloud.enter(stay.street.external_id, stay.code)
    clock.now = at_local(clock().date(), 23, 30)
    stay.poll()
    assert notices(stay.runtime, "no_show") == []
    assert len(notices(stay.runtime, "guest_arrived")) == 1


def test_locks_that_never_report_send_no_no_show_notice(stay, clock):
    clock.now = at_local(clock().date(), 23, 30)
    stay.poll()
    assert notices(stay.runtime, "no_show") == []


def test_a_stay_days_old_gets_no_no_show_notice_when_its_locks_begin_to_report(stay, clock):
    """Rolled out mid-stay: the guest who has been in for two days is no news to the host."""
    clock.now = at_local(clock().date() + timedelta(days=1), 23, 30)
    stay.cloud.enter(stay.street.external_id, "000001")  # the locks report from now on
    stay.poll()
    assert notices(stay.runtime, "no_show") == []
