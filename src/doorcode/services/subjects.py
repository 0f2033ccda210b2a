"""What an alert or an audit event is about, in words: a name, its property, and its clock.

Alerts and events point at their subject by type and id; an operator reads names. This
reads the subjects once per page, inside the page's transaction, and says for each one who
or what it is, which property it belongs to, and the zone its times are best read in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from doorcode.domain.windows import zone_named
from doorcode.store.models import Property
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["Subject", "SubjectKey", "name_subjects"]

SubjectKey = tuple[str, str]
PAGES = {"reservation": "reservations", "grant": "grants", "lock": "locks"}
PAGES["property"] = "properties"


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject as pages show it; ``zone`` is None when it has no one property."""

    type: str
    id: str
    name: str
    property_name: str | None = None
    zone: ZoneInfo | None = None
    source: str | None = None

    @property
    def href(self) -> str | None:
        """The page of the subject, if it has one."""
        page = PAGES.get(self.type)
        return f"/{page}/{self.id}" if page is not None and self.name != self.id else None

    @property
    def label(self) -> str:
        """The name, with its property when that says more: ``Ana Silva · Flat 1A``."""
        if self.property_name and self.property_name != self.name:
            return f"{self.name} · {self.property_name}"
        return self.name


def name_subjects(
    uow: UnitOfWork, organisation_id: str, keys: Iterable[SubjectKey]
) -> dict[SubjectKey, Subject]:
    """Each subject in words; one that is gone (or of a kind without a page) keeps its id."""
    named: dict[SubjectKey, Subject] = {}
    for key in keys:
        if key not in named:
            named[key] = _name(uow, organisation_id, *key)
    return named


def _name(uow: UnitOfWork, org: str, kind: str, ref: str) -> Subject:
    if kind == "reservation" and (stay := uow.reservations.get(org, ref)) is not None:
        home = stay.property
        name = stay.guest_name or "(no name)"
        return Subject(kind, ref, name, home.name, zone_named(home.time_zone), stay.source)
    if kind == "grant" and (grant := uow.grants.get(org, ref)) is not None:
        of = _property_of_grant(uow, org, grant.property_id, grant.reservation_id)
        return _with_property(Subject(kind, ref, grant.holder or f"{grant.kind} code"), of)
    if kind == "lock" and (lock := uow.locks.get(org, ref)) is not None:
        places = list(lock.properties)
        subject = Subject(kind, ref, lock.name)
        return _with_property(subject, places[0]) if len(places) == 1 else subject
    if kind == "property" and (prop := uow.properties.get(org, ref)) is not None:
        return Subject(kind, ref, prop.name, None, zone_named(prop.time_zone))
    return Subject(kind, ref, ref)


def _property_of_grant(
    uow: UnitOfWork, org: str, property_id: str | None, reservation_id: str | None
) -> Property | None:
    if property_id is None and reservation_id is not None:
        stay = uow.reservations.get(org, reservation_id)
        property_id = stay.property_id if stay is not None else None
    return uow.properties.get(org, property_id) if property_id else None


def _with_property(subject: Subject, prop: Property | None) -> Subject:
    if prop is None:
        return subject
    zone = zone_named(prop.time_zone)
    return Subject(subject.type, subject.id, subject.name, prop.name, zone, subject.source)
