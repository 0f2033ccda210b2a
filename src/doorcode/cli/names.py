"""Names and clocks for printing: operators read property and lock names on local time, not ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from doorcode.cli.context import CliState

__all__ = ["Names", "local_time", "names_of", "organisation_zone"]


@dataclass(frozen=True, slots=True)
class Names:
    """The organisation's property and lock names by id, and each property's time zone."""

    properties: dict[str, str]
    zones: dict[str, tzinfo]
    locks: dict[str, str]

    def property(self, property_id: str | None) -> str | None:
        """A property's name (its id if it vanished), or None for no property."""
        return None if property_id is None else self.properties.get(property_id, property_id)

    def lock(self, lock_id: str) -> str:
        """A lock's name (its id if it vanished)."""
        return self.locks.get(lock_id, lock_id)

    def zone(self, property_id: str | None) -> tzinfo:
        """The property's clock; UTC for what belongs to no property."""
        return self.zones.get(property_id or "", UTC)


def names_of(state: CliState) -> Names:
    """Read the names once per command."""
    from doorcode.services.locks import list_locks
    from doorcode.services.properties import list_properties

    runtime, caller = state.runtime(), state.caller()
    places = list_properties(runtime.uow(), caller)
    locks = list_locks(runtime.uow(), caller)
    return Names(
        {place.id: place.name for place in places},
        {place.id: ZoneInfo(place.time_zone) for place in places},
        {lock.id: lock.name for lock in locks},
    )


def organisation_zone(state: CliState) -> tzinfo:
    """The clock for what belongs to no one property (keys, users, deliveries): the
    properties' common zone, as the dashboard's audit log uses, else UTC."""
    from doorcode.services.dashboard import display_zone
    from doorcode.services.properties import list_properties

    return display_zone(list_properties(state.runtime().uow(), state.caller()))


def local_time(instant: datetime | None, zone: tzinfo) -> str:
    """``2026-12-04 15:00 WET``: the instant on the property's clock, with its zone."""
    if instant is None:
        return "–"
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
