"""The demo world shows access events working: one guest arrived, one not yet, a weak battery."""

from __future__ import annotations

from sqlalchemy import select

from doorcode.demo_world import ensure_demo_world
from doorcode.store.models import AccessEventRow, Alert, Event, Lock, LockHealthSample, Reservation


def test_the_demo_has_an_arrived_guest_one_not_yet_and_a_low_battery_before_an_arrival(
    runtime, clock
):
    runtime.settings.console_messages = True
    ensure_demo_world(runtime)
    with runtime.uow() as uow:
        session = uow.session
        guests = {r.id: r.guest_name for r in session.scalars(select(Reservation))}
        arrived = [
            guests[e.subject_id]
            for e in session.scalars(select(Event).where(Event.kind == "GuestArrived"))
        ]
        openings = [
            (row.lock.name, row.outcome, row.grant_id is not None)
            for row in session.scalars(select(AccessEventRow))
        ]
        battery = list(
            session.scalars(
                select(LockHealthSample)
                .join(Lock, Lock.id == LockHealthSample.lock_id)
                .where(Lock.name == "Villa Sol front door")
            )
        )
        alerts = list(session.scalars(select(Alert).where(Alert.kind == "LockBatteryLow")))
    assert arrived == ["Inês Carvalho"]
    assert "Sofia Rossi" in guests.values()
    assert sorted(openings) == [
        ("Flat 1A door", "opened", True),
        ("Rua Augusta street door", "opened", True),
    ]
    assert [s.battery_percent for s in battery] == [96, 88, 74, 61, 45, 31, 18]
    [alert] = alerts
    assert alert.message.startswith("Villa Sol front door: battery 18 %; next guest arrives")
    assert "The Schmidt family" in alert.message
