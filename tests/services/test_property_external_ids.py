"""A property's external id must name it alone: bookings find their property by id, external
id, then name, so an external id that named another would take that one's bookings."""

import pytest

from doorcode.services.errors import AlreadyExists
from doorcode.services.properties import PropertyDetails, add_property, change_property
from tests.builders import make_owner, make_property


@pytest.fixture
def owner(runtime):
    return make_owner(runtime)


def test_an_external_id_another_property_has_is_refused(runtime, owner):
    make_property(runtime, owner, "Flat 1", external_id="L-1")
    details = PropertyDetails("Flat 2", "Europe/London", external_id="L-1")
    with pytest.raises(AlreadyExists, match="'L-1' already names property 'Flat 1'"):
        add_property(runtime.uow(), owner, details)


def test_an_external_id_that_is_another_propertys_name_is_refused_as_what_it_is(runtime, owner):
    make_property(runtime, owner, "Flat 1")
    details = PropertyDetails("Flat 2", "Europe/London", external_id="Flat 1")
    with pytest.raises(AlreadyExists, match="'Flat 1' already names property 'Flat 1'"):
        add_property(runtime.uow(), owner, details)


def test_an_external_id_two_properties_have_as_their_name_is_refused_too(runtime, owner):
    for _ in range(2):
        add_property(runtime.uow(), owner, PropertyDetails("Flat 1", "Europe/London"))
    details = PropertyDetails("Flat 2", "Europe/London", external_id="Flat 1")
    with pytest.raises(AlreadyExists, match="already names several properties"):
        add_property(runtime.uow(), owner, details)


def test_a_property_may_take_its_own_name_as_its_external_id(runtime, owner):
    prop = make_property(runtime, owner, "Flat 1")
    changed = change_property(runtime.uow(), owner, prop.id, {"external_id": "Flat 1"})
    assert changed.external_id == "Flat 1"
