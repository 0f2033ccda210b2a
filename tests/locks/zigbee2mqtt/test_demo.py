"""The demo's zigbee lock: on the broker when one answers, absent (and said) when none does."""

from __future__ import annotations

from doorcode.demo_world import DEMO_SLUG, ensure_demo_world
from doorcode.demo_zigbee import BROKER_ENV, GATE, start_demo_zigbee
from doorcode.services.caller import Caller, Role
from doorcode.services.grants import reveal_code
from doorcode.store.repositories import ReservationFilter
from tests.locks.zigbee2mqtt.conftest import BROKER
from tests.locks.zigbee2mqtt.test_adapter import _closed_port
from tests.sync.helpers import reconcile


def test_the_demo_gets_a_zigbee_lock_that_takes_the_code_of_the_guest_arriving_today(
    runtime, broker, clock, monkeypatch
):
    monkeypatch.setenv(BROKER_ENV, BROKER)
    ensure_demo_world(runtime)
    zigbee = start_demo_zigbee(runtime, DEMO_SLUG)
    try:
        assert zigbee.bridge is not None, zigbee.message
        assert GATE in zigbee.message
        clock.advance(hours=7)  # Sofia's check-in at Flat 2B has begun
        reconcile(runtime)
        with runtime.uow() as uow:
            org = uow.organisations.by_slug(DEMO_SLUG)
            [sofia] = uow.reservations.search(org.id, ReservationFilter(guest_name="Sofia Rossi"))
            grant = uow.grants.guest_grant_of(sofia.id)
        owner_code = reveal_code(runtime.uow(), _owner(org.id), grant.id)
        assert owner_code in zigbee.bridge.held(GATE).values()
    finally:
        zigbee.stop()


def test_without_a_broker_the_demo_runs_without_its_zigbee_lock_and_says_so(runtime, monkeypatch):
    monkeypatch.setenv(BROKER_ENV, f"127.0.0.1:{_closed_port()}")
    ensure_demo_world(runtime)
    zigbee = start_demo_zigbee(runtime, DEMO_SLUG)
    assert zigbee.bridge is None
    assert "no MQTT broker" in zigbee.message
    with runtime.uow() as uow:
        org = uow.organisations.by_slug(DEMO_SLUG)
        assert uow.locks.find(org.id, GATE) is None
    zigbee.stop()


def _owner(organisation_id):
    return Caller(organisation_id, "demo", Role.OWNER)
