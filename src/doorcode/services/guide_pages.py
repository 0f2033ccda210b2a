"""What a property's guidebook says besides the codes: Wi-Fi, directions, parking, house
rules, check-out steps, and at each door how to get in and what to do when leaving.

The host writes Markdown; ``web/markdown.py`` turns it into sanitised HTML for the guest.
Each text is bounded, and a change is one audited transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from doorcode.domain.text import has_nul
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.store.models import Property
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["MAX_TEXT", "TOPICS", "DoorNotes", "GuidePages", "guide_pages_of", "set_guide_pages"]

TOPICS = ("wifi", "directions", "parking", "house_rules", "check_out")
MAX_TEXT = 5_000


@dataclass(frozen=True, slots=True)
class DoorNotes:
    """What a guest needs at one door of the property."""

    lock_id: str
    lock_name: str
    arrival: str = ""
    departure: str = ""


@dataclass(frozen=True, slots=True)
class GuidePages:
    """A property's guidebook texts (Markdown), by topic, and its doors' notes."""

    topics: Mapping[str, str]
    doors: tuple[DoorNotes, ...]


def guide_pages_of(prop: Property) -> GuidePages:
    """The property's texts as stored (inside the property's transaction)."""
    stored = prop.guide or {}
    return GuidePages(
        {topic: str(stored.get(topic, "")) for topic in TOPICS},
        tuple(
            DoorNotes(lock.id, lock.name, lock.arrival_note, lock.departure_note)
            for lock in prop.locks
        ),
    )


def set_guide_pages(
    uow: UnitOfWork, caller: Caller, property_ref: str, pages: GuidePages
) -> GuidePages:
    """Save the property's guidebook texts and its doors' notes, or nothing if one is bad."""
    caller.require_writer()
    _check(pages)
    with uow:
        prop = uow.properties.find(caller.organisation_id, property_ref)
        if prop is None:
            raise NotFound("property", property_ref)
        locks = {lock.id: lock for lock in prop.locks}
        if unknown := [door.lock_id for door in pages.doors if door.lock_id not in locks]:
            raise InvalidRequest(f"{unknown[0]} is not a door of {prop.name}")
        prop.guide = {topic: pages.topics.get(topic, "").strip() for topic in TOPICS}
        for door in pages.doors:
            locks[door.lock_id].arrival_note = door.arrival.strip()
            locks[door.lock_id].departure_note = door.departure.strip()
        prop.updated_at = uow.now
        changed = sorted(topic for topic in TOPICS if prop.guide[topic])
        record_event(
            uow, caller, ("property", prop.id), "GuidebookChanged", after={"topics": changed}
        )
        uow.commit()
        return guide_pages_of(prop)


def _check(pages: GuidePages) -> None:
    """Refuse the whole save if one text is bad, naming that text (a door's note by its door).

    A NUL is refused like anywhere else (``domain.text``): PostgreSQL cannot store it.
    """
    for topic in pages.topics:
        if topic not in TOPICS:
            raise InvalidRequest(f"{topic!r} is not a guidebook topic")
    texts = [(topic.replace("_", " "), text) for topic, text in pages.topics.items()]
    for door in pages.doors:
        texts.append((f"{door.lock_name}, arrival note", door.arrival))
        texts.append((f"{door.lock_name}, departure note", door.departure))
    for label, text in texts:
        if has_nul(text):
            raise InvalidRequest(f"{label}: may not contain the NUL character")
        if len(text) > MAX_TEXT:
            raise InvalidRequest(f"{label}: at most {MAX_TEXT} characters")
