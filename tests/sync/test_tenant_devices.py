"""Organisations never share a device: the lock cloud is shared, their codes must not be."""

from datetime import date, timedelta

import pytest

from doorcode.services.errors import AlreadyExists
from doorcode.services.grants import reveal_code
from doorcode.services.locks import LockDetails, add_lock
from tests.builders import book, make_lock, make_owner, make_property
from tests.sync.helpers import cloud_of, grants_on, reconcile

TODAY = date(2026, 11, 23)  # the clock fixture says 09:00 UTC on this day


def test_two_hosts_with_a_lock_of_the_same_name_get_two_devices(runtime, clock):
    alpha, beta = make_owner(runtime, "alpha"), make_owner(runtime, "beta")
    alpha_door = make_lock(runtime, alpha, "Flat 1 door")
    beta_door = make_lock(runtime, beta, "Flat 1 door")
    assert alpha_door.external_id != beta_door.external_id
    alpha_flat = make_property(runtime, alpha, "Flat", locks=[alpha_door], time_zone="UTC")
    beta_flat = make_property(runtime, beta, "Flat", locks=[beta_door], time_zone="UTC")
    beta_guest = book(runtime, beta, beta_flat, "B1", TODAY, TODAY + timedelta(days=2)).grant
    book(runtime, alpha, alpha_flat, "A1", TODAY, TODAY + timedelta(days=2))
    clock.advance(hours=6)
    reconcile(runtime)
    code = reveal_code(runtime.uow(), beta, beta_guest.id)
    assert not cloud_of(runtime).enter(alpha_door.external_id, code, clock.now).opened
    assert cloud_of(runtime).enter(beta_door.external_id, code, clock.now).opened
    reconcile(runtime)
    assert grants_on(runtime, beta_door) == [beta_guest.id]


def test_a_device_another_organisation_has_cannot_be_added_again(runtime):
    alpha, beta = make_owner(runtime, "alpha"), make_owner(runtime, "beta")
    add_lock(runtime.uow(), alpha, LockDetails("Gate", external_id="device-42"))
    with pytest.raises(AlreadyExists, match="device 'device-42' is already in use"):
        add_lock(runtime.uow(), beta, LockDetails("Their gate", external_id="device-42"))
