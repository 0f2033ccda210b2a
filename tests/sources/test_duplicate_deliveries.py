"""A duplicate delivery is recognised in one read; anything that is not one takes the full path.

The quick recognition (``find_duplicate``) must answer exactly as ``apply_reservation`` would:
a repeat that carries a newer version, names another property, or changes the stay is not a
duplicate, and what it changes is kept.
"""

import pytest
from sqlalchemy import select

from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from doorcode.store.models import Reservation
from tests.builders import make_lock, make_owner, make_property
from tests.sources.test_delivery_statements import deliver


@pytest.fixture
def source(any_runtime):
    owner = make_owner(any_runtime, "acme")
    lock = make_lock(any_runtime, owner, "Door")
    make_property(any_runtime, owner, "Flat 1", locks=[lock], external_id="flat-1")
    return add_source(any_runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))


def stored(runtime, external_id="HX-1"):
    with runtime.uow() as uow:
        query = select(Reservation).where(Reservation.external_id == external_id)
        return uow.session.scalars(query).one()


def test_a_repeat_with_a_newer_version_keeps_that_version(any_runtime, source, clock):
    deliver(any_runtime, source, clock, "d-1", updated_at="2026-11-20T08:00:00Z")
    repeat = deliver(any_runtime, source, clock, "d-2", updated_at="2026-11-21T08:00:00Z")
    between = deliver(
        any_runtime, source, clock, "d-3", updated_at="2026-11-20T12:00:00Z", status="cancelled"
    )
    assert repeat.delivery.outcome == "unchanged"
    assert between.delivery.outcome == "stale"  # older than the repeat's version
    assert stored(any_runtime).status == "confirmed"


def test_a_repeat_of_an_older_version_is_stale_not_a_duplicate(any_runtime, source, clock):
    deliver(any_runtime, source, clock, "d-1", updated_at="2026-11-21T08:00:00Z")
    older = deliver(any_runtime, source, clock, "d-2", updated_at="2026-11-20T08:00:00Z")
    assert older.delivery.outcome == "stale"


def test_the_same_booking_at_another_property_moves_it(any_runtime, source, clock):
    owner = make_owner(any_runtime, "other")  # a property of another organisation is no match
    make_property(any_runtime, owner, "Elsewhere", external_id="flat-2")
    with any_runtime.uow() as uow:
        organisation_id = uow.sources.by_id(source.source.id).organisation_id
    caller = type(owner)(organisation_id, "test:acme", owner.role)
    lock = make_lock(any_runtime, caller, "Flat 2 door")
    flat_2 = make_property(any_runtime, caller, "Flat 2", locks=[lock], external_id="flat-2")
    deliver(any_runtime, source, clock, "d-1")
    moved = deliver(any_runtime, source, clock, "d-2", property="flat-2")
    assert moved.delivery.outcome == "accepted"
    assert stored(any_runtime).property_id == flat_2.id


def test_a_property_id_that_is_another_property_external_id_names_that_one_first(
    any_runtime, source, clock
):
    """A property's id wins over another's external id, in the quick read as in the full."""
    with any_runtime.uow() as uow:
        organisation_id = uow.sources.by_id(source.source.id).organisation_id
        flat_1 = uow.properties.find(organisation_id, "flat-1")
    owner = make_owner(any_runtime, "spare")
    caller = type(owner)(organisation_id, "test:acme", owner.role)
    clash = make_property(any_runtime, caller, "Clash", locks=[make_lock(any_runtime, caller, "C")])
    with any_runtime.uow() as uow:  # flat-1 is known outside as the other property's id
        uow.properties.find(organisation_id, flat_1.id).external_id = clash.id
        uow.commit()
    deliver(any_runtime, source, clock, "d-1", property=flat_1.id)
    by_clashing_reference = deliver(any_runtime, source, clock, "d-2", property=clash.id)
    assert by_clashing_reference.delivery.outcome == "accepted"
    assert stored(any_runtime).property_id == clash.id


def test_a_changed_guest_is_not_a_duplicate(any_runtime, source, clock):
    deliver(any_runtime, source, clock, "d-1")
    changed = deliver(
        any_runtime, source, clock, "d-2", guest={"name": "Ada King", "email": "ada@example.org"}
    )
    omitted = deliver(any_runtime, source, clock, "d-3", guest={"name": "Ada King"})
    assert changed.delivery.outcome == "accepted"
    assert omitted.delivery.outcome == "unchanged"  # what a source leaves out is kept
    assert stored(any_runtime).guest_count == 2
