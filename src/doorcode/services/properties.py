"""Properties and their lock groups: adding, changing, and linking locks to them.

Changing what a property's grants depend on (zone, default times, locks) re-derives every
current grant at once, in the same transaction, so codes never lag behind the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from typing import Any

from doorcode.domain.code_policy import Alphabet, CodePolicy
from doorcode.domain.errors import AmbiguousReference
from doorcode.domain.guidebook import DEFAULT_REVEAL_HOURS
from doorcode.domain.lead_times import LeadTimes
from doorcode.domain.lock_capabilities import policy_for_locks
from doorcode.domain.windows import zone_named
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.services.naming import check_name, check_name_length
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.store.models import Lock, Property
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "PropertyDetails",
    "add_property",
    "change_property",
    "details_of",
    "find_in",
    "find_property",
    "link_in",
    "link_lock",
    "list_properties",
    "unlink_lock",
]

SUBJECT = "property"
MAX_REVEAL_HOURS = 14 * 24


@dataclass(frozen=True, slots=True)
class PropertyDetails:
    """A property's settings; the defaults suit most rentals."""

    name: str
    time_zone: str
    check_in_time: time = time(15, 0)
    check_out_time: time = time(11, 0)
    code_length: int = 6
    code_alphabet: Alphabet = Alphabet.NUMERIC
    external_id: str | None = None
    native_lead_minutes: int = 72 * 60
    unscheduled_lead_minutes: int = 60
    address: str = ""
    code_reveal_hours: int = DEFAULT_REVEAL_HOURS
    backup_codes: bool = False
    arrival_notices: bool = True
    """Tell the host when a guest first opens the door, or has not by ``no_show_time``."""
    no_show_time: time = time(23, 0)
    turnover_holder: str = ""
    turnover_max_hours: int = 24

    @property
    def lead_times(self) -> LeadTimes:
        """How long before a window codes go onto the property's locks."""
        return LeadTimes.of_minutes(self.native_lead_minutes, self.unscheduled_lead_minutes)


def add_property(uow: UnitOfWork, caller: Caller, details: PropertyDetails) -> Property:
    """A new property with no locks yet."""
    caller.require_writer()
    _validate(details)
    with uow:
        _refuse_duplicate_external_id(uow, caller, details.external_id)
        prop = Property(organisation_id=caller.organisation_id, created_at=uow.now, locks=[])
        _apply(prop, details, uow)
        uow.properties.add(prop)
        uow.flush()
        record_event(uow, caller, (SUBJECT, prop.id), "PropertyAdded", after=_snapshot(prop))
        uow.commit()
        return prop


def change_property(
    uow: UnitOfWork, caller: Caller, reference: str, changes: dict[str, Any]
) -> Property:
    """Change some settings; current grants follow new zones and default times at once
    (a staff schedule's windows too: 10:00 stays 10:00 on the new clock).

    A new code length or alphabet applies to codes chosen from now on; codes guests already
    hold stay as they are. New lead times change when codes go onto the locks, so the locks
    are marked for the reconciler.
    """
    caller.require_writer()
    with uow:
        prop = find_in(uow, caller, reference)
        current = details_of(prop)
        details = replace(current, **changes)
        _validate(details, prop.locks)
        if details.external_id != prop.external_id:
            _refuse_duplicate_external_id(uow, caller, details.external_id, prop.id)
        before = _snapshot(prop)
        if details.lead_times != current.lead_times:
            uow.touch_locks({lock.id for lock in prop.locks})
        _apply(prop, details, uow)
        after = _snapshot(prop)
        record_event(uow, caller, (SUBJECT, prop.id), "PropertyChanged", before=before, after=after)
        _follow(uow, caller, prop)
        if details.time_zone != current.time_zone:
            from doorcode.services.schedules import follow_zone_change

            follow_zone_change(uow, caller, prop, current.time_zone)
        uow.commit()
        return prop


def link_lock(uow: UnitOfWork, caller: Caller, property_ref: str, lock_ref: str) -> Property:
    """Add a lock to the property's group; current grants get their code on it too."""
    caller.require_writer()
    with uow:
        prop = find_in(uow, caller, property_ref)
        lock = _find_lock(uow, caller, lock_ref)
        link_in(uow, caller, prop, lock)
        uow.commit()
        return prop


def link_in(uow: UnitOfWork, caller: Caller, prop: Property, lock: Lock) -> None:
    """Link inside the caller's unit of work, uncommitted: adding a lock with its properties
    must store all of it or nothing (a refused link would otherwise leave the lock behind)."""
    if lock in prop.locks:
        return
    _validate(details_of(prop), [*prop.locks, lock])
    prop.locks.append(lock)
    uow.touch_locks({lock.id})
    record_event(
        uow, caller, (SUBJECT, prop.id), "LockLinked", lock.name, after={"lock_id": lock.id}
    )
    _follow(uow, caller, prop)


def unlink_lock(uow: UnitOfWork, caller: Caller, property_ref: str, lock_ref: str) -> Property:
    """Take a lock out of the property's group; the group's codes leave it."""
    caller.require_writer()
    with uow:
        prop = find_in(uow, caller, property_ref)
        lock = _find_lock(uow, caller, lock_ref)
        if lock not in prop.locks:
            return prop
        prop.locks.remove(lock)
        uow.touch_locks({lock.id})
        record_event(
            uow, caller, (SUBJECT, prop.id), "LockUnlinked", lock.name, before={"lock_id": lock.id}
        )
        _follow(uow, caller, prop)
        uow.commit()
        return prop


def find_property(uow: UnitOfWork, caller: Caller, reference: str) -> Property:
    """A property by id, external id or name."""
    with uow:
        prop = find_in(uow, caller, reference)
        _ = prop.locks
        return prop


def list_properties(uow: UnitOfWork, caller: Caller) -> list[Property]:
    """Every property of the caller's organisation, with its locks."""
    with uow:
        return uow.properties.all(caller.organisation_id)


MAX_TURNOVER_HOURS = 14 * 24


def _validate(details: PropertyDetails, locks: list[Lock] | None = None) -> None:
    """Refuse unknown zones, lengths outside 4–10, lead times outside 0–30 days, reveal
    hours outside 0–14 days, turnover caps outside 1 hour–14 days, a holder name over 200
    characters, a blank or overlong name, and policies a linked lock cannot take."""
    check_name("a property", details.name)
    if details.external_id is not None and not details.external_id.strip():
        # A second blank one died on the unique index with a traceback.
        raise InvalidRequest("an external id cannot be blank: leave it out for none")
    zone_named(details.time_zone)
    details.lead_times  # noqa: B018 (building LeadTimes raises InvalidLeadTime when out of range)
    if not 0 <= details.code_reveal_hours <= MAX_REVEAL_HOURS:
        raise InvalidRequest(
            f"the guidebook shows codes 0 to {MAX_REVEAL_HOURS} hours before check-in"
        )
    if not 1 <= details.turnover_max_hours <= MAX_TURNOVER_HOURS:
        raise InvalidRequest(f"a turnover code lasts 1 to {MAX_TURNOVER_HOURS} hours at most")
    check_name_length("the turnover code's holder", details.turnover_holder)
    if details.turnover_holder != details.turnover_holder.strip():
        raise InvalidRequest("the turnover code's holder cannot start or end with spaces")
    wanted = CodePolicy(details.code_length, details.code_alphabet)
    policy_for_locks(wanted, [capabilities_from_json(lock.capabilities) for lock in locks or []])


def _follow(uow: UnitOfWork, caller: Caller, prop: Property) -> None:
    """Re-derive the property's grants (imported here: listing properties needs none of it)."""
    from doorcode.services.reservations import follow_property

    follow_property(uow, caller, prop)


def _refuse_duplicate_external_id(
    uow: UnitOfWork, caller: Caller, external_id: str | None, own_id: str | None = None
) -> None:
    """An external id must name its property alone: a booking's reference is looked up by
    id, external id, then name, so one that already names another property (or several, by
    their name) would quietly send that property's bookings here."""
    if not external_id:
        return
    try:
        taken = uow.properties.find(caller.organisation_id, external_id)
    except AmbiguousReference as err:
        raise AlreadyExists(f"{external_id!r} already names several properties") from err
    if taken is not None and taken.id != own_id:
        raise AlreadyExists(f"{external_id!r} already names property {taken.name!r}")


def find_in(uow: UnitOfWork, caller: Caller, reference: str) -> Property:
    """A property by id, external id or name, inside the caller's unit of work."""
    prop = uow.properties.find(caller.organisation_id, reference)
    if prop is None:
        raise NotFound("property", reference)
    return prop


def _find_lock(uow: UnitOfWork, caller: Caller, reference: str) -> Lock:
    lock = uow.locks.find(caller.organisation_id, reference)
    if lock is None:
        raise NotFound("lock", reference)
    return lock


def _apply(prop: Property, details: PropertyDetails, uow: UnitOfWork) -> None:
    prop.name = details.name
    prop.time_zone = details.time_zone
    prop.check_in_time = details.check_in_time
    prop.check_out_time = details.check_out_time
    prop.code_length = details.code_length
    prop.code_alphabet = details.code_alphabet.value
    prop.external_id = details.external_id
    prop.native_lead_minutes = details.native_lead_minutes
    prop.unscheduled_lead_minutes = details.unscheduled_lead_minutes
    prop.address = details.address
    prop.code_reveal_hours = details.code_reveal_hours
    prop.backup_codes = details.backup_codes
    prop.arrival_notices = details.arrival_notices
    prop.no_show_time = details.no_show_time
    prop.turnover_holder = details.turnover_holder
    prop.turnover_max_hours = details.turnover_max_hours
    prop.updated_at = uow.now


def details_of(prop: Property) -> PropertyDetails:
    """The property's settings as stored, the starting point of a change."""
    return PropertyDetails(
        name=prop.name,
        time_zone=prop.time_zone,
        check_in_time=prop.check_in_time,
        check_out_time=prop.check_out_time,
        code_length=prop.code_length,
        code_alphabet=Alphabet(prop.code_alphabet),
        external_id=prop.external_id,
        native_lead_minutes=prop.native_lead_minutes,
        unscheduled_lead_minutes=prop.unscheduled_lead_minutes,
        address=prop.address,
        code_reveal_hours=prop.code_reveal_hours,
        backup_codes=prop.backup_codes,
        arrival_notices=prop.arrival_notices,
        no_show_time=prop.no_show_time,
        turnover_holder=prop.turnover_holder,
        turnover_max_hours=prop.turnover_max_hours,
    )


def _snapshot(prop: Property) -> dict[str, Any]:
    return {
        "name": prop.name,
        "time_zone": prop.time_zone,
        "check_in_time": prop.check_in_time.isoformat(),
        "check_out_time": prop.check_out_time.isoformat(),
        "code_length": prop.code_length,
        "code_alphabet": prop.code_alphabet,
        "external_id": prop.external_id,
        "native_lead_minutes": prop.native_lead_minutes,
        "unscheduled_lead_minutes": prop.unscheduled_lead_minutes,
        "address": prop.address,
        "code_reveal_hours": prop.code_reveal_hours,
        "backup_codes": prop.backup_codes,
        "arrival_notices": prop.arrival_notices,
        "no_show_time": prop.no_show_time.isoformat(),
        "turnover_holder": prop.turnover_holder,
        "turnover_max_hours": prop.turnover_max_hours,
    }
