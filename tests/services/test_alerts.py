"""Alerts: one open alert per (kind, subject), on SQLite and PostgreSQL."""

from doorcode.services.alerts import clear_alert, list_open_alerts, raise_alert
from tests.builders import make_owner

SUBJECT = ("reservation", "res_1")


def raise_(runtime, organisation_id, message, kind="GuestUnreachable", subject=SUBJECT):
    with runtime.uow() as uow:
        raise_alert(uow, organisation_id, kind, subject, message)
        uow.commit()


def clear(runtime, organisation_id, kind="GuestUnreachable", subject=SUBJECT):
    with runtime.uow() as uow:
        clear_alert(uow, organisation_id, kind, subject)
        uow.commit()


def test_raising_an_open_alert_again_only_refreshes_it(any_runtime, clock):
    org = make_owner(any_runtime).organisation_id
    raise_(any_runtime, org, "first")
    clock.advance(minutes=5)
    raise_(any_runtime, org, "second")
    [alert] = list_open_alerts(any_runtime.uow(), org)
    assert (alert.message, alert.raised_at.minute) == ("second", 0)


def test_kinds_and_subjects_are_separate_alerts(any_runtime):
    org = make_owner(any_runtime).organisation_id
    raise_(any_runtime, org, "a")
    raise_(any_runtime, org, "b", kind="GuestMessageNotDelivered")
    raise_(any_runtime, org, "c", subject=("reservation", "res_2"))
    assert len(list_open_alerts(any_runtime.uow(), org)) == 3
    assert len(list_open_alerts(any_runtime.uow(), org, SUBJECT)) == 2


def test_a_cleared_alert_can_be_raised_anew_and_clearing_twice_is_harmless(any_runtime):
    org = make_owner(any_runtime).organisation_id
    raise_(any_runtime, org, "a")
    clear(any_runtime, org)
    clear(any_runtime, org)
    assert list_open_alerts(any_runtime.uow(), org) == []
    raise_(any_runtime, org, "again")
    assert [a.message for a in list_open_alerts(any_runtime.uow(), org)] == ["again"]


def test_alerts_belong_to_their_organisation(any_runtime):
    mine, theirs = make_owner(any_runtime).organisation_id, make_owner(any_runtime, "other")
    raise_(any_runtime, mine, "a")
    assert list_open_alerts(any_runtime.uow(), theirs.organisation_id) == []
