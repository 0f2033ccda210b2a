"""Repositories: every query the services need, each scoped to one organisation.

A repository method that reads tenant data takes ``organisation_id`` first, so a missing
scope is visible in review; an object of another organisation is simply not found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from doorcode.domain.errors import AmbiguousReference
from doorcode.domain.grants import GrantKind
from doorcode.domain.windows import TimeWindow
from doorcode.store.code_cipher import CodeCipher
from doorcode.store.ids import new_guide_token
from doorcode.store.models import (
    Alert,
    ApiKey,
    Base,
    Event,
    Grant,
    Lock,
    LockCode,
    Organisation,
    Property,
    Reservation,
    property_locks,
)
from doorcode.store.row_holds import hold_row

__all__ = [
    "AlertFilter",
    "AlertRepository",
    "ApiKeyRepository",
    "EventFilter",
    "EventRepository",
    "GrantFilter",
    "GrantRepository",
    "LockRepository",
    "OrganisationRepository",
    "PropertyRepository",
    "ReservationFilter",
    "ReservationRepository",
    "StoredBooking",
    "forget_pending_events",
    "write_pending_events",
]

DEFAULT_PAGE = 100

SelectT = TypeVar("SelectT", bound=Select[Any])


class OrganisationRepository:
    """Organisations are the tenants; only administration looks across them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, organisation: Organisation) -> None:
        """Stage a new organisation."""
        self._session.add(organisation)

    def get(self, organisation_id: str) -> Organisation | None:
        """The organisation with this id."""
        return self._session.get(Organisation, organisation_id)

    def by_slug(self, slug: str) -> Organisation | None:
        """The organisation with this slug."""
        return self._session.scalar(select(Organisation).where(Organisation.slug == slug))

    def all(self) -> list[Organisation]:
        """Every organisation, by slug."""
        return list(self._session.scalars(select(Organisation).order_by(Organisation.slug)))


class ApiKeyRepository:
    """API keys; looked up by their public prefix when a request arrives."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, key: ApiKey) -> None:
        """Stage a new key."""
        self._session.add(key)

    def by_prefix(self, prefix: str) -> ApiKey | None:
        """The key whose public prefix is ``prefix``, in any organisation."""
        return self._session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))

    def all(self, organisation_id: str) -> list[ApiKey]:
        """The organisation's keys, newest first."""
        query = select(ApiKey).where(ApiKey.organisation_id == organisation_id)
        return list(self._session.scalars(query.order_by(ApiKey.created_at.desc())))


class PropertyRepository:
    """Properties of an organisation, with their locks."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, prop: Property) -> None:
        """Stage a new property."""
        self._session.add(prop)

    def get(self, organisation_id: str, property_id: str) -> Property | None:
        """The property with this id, if it belongs to the organisation."""
        query = select(Property).where(Property.id == property_id)
        query = query.options(selectinload(Property.locks))
        return self._session.scalar(_owned(query, Property, organisation_id))

    def find(self, organisation_id: str, reference: str) -> Property | None:
        """The property known by id, external id or exact name (in that order);
        ``AmbiguousReference`` when several share the name.

        One query for all three, locks joined in: a reservation names its property on every
        delivery.
        """
        parameters = {"organisation_id": organisation_id, "reference": reference}
        found = list(self._session.scalars(_find_property(), parameters).unique())
        for column in ("id", "external_id", "name"):
            named = [prop for prop in found if getattr(prop, column) == reference]
            if len(named) == 1:
                return named[0]
            if named:
                raise AmbiguousReference("properties", reference, sorted(p.id for p in named))
        return None

    def hold(self, property_id: str) -> None:
        """Queue behind other writers of this property, so two deliveries of one new
        booking cannot both find no reservation and both insert it."""
        hold_row(self._session, Property.id, property_id)

    def hold_each(self, property_ids: Collection[str]) -> None:
        """Hold several properties, always in id order.

        A booking moved from one property to another changes both; two moves in opposite
        directions that held them in arrival order could each wait for the other forever.
        """
        for property_id in sorted(set(property_ids)):
            hold_row(self._session, Property.id, property_id)

    def matching(self, organisation_id: str, text: str, limit: int) -> list[Property]:
        """Properties whose name, address or external id holds ``text``, by name."""
        pattern = _like_pattern(text)
        columns = (Property.name, Property.address, Property.external_id)
        query = _owned(select(Property), Property, organisation_id)
        query = query.where(or_(*(func.lower(column).like(pattern) for column in columns)))
        query = query.options(selectinload(Property.locks)).order_by(Property.name)
        return list(self._session.scalars(query.limit(limit)))

    def all(self, organisation_id: str) -> list[Property]:
        """The organisation's properties, by name, locks loaded."""
        query = _owned(select(Property), Property, organisation_id)
        query = query.options(selectinload(Property.locks)).order_by(Property.name)
        return list(self._session.scalars(query))


class LockRepository:
    """Locks of an organisation."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, lock: Lock) -> None:
        """Stage a new lock."""
        self._session.add(lock)

    def get(self, organisation_id: str, lock_id: str) -> Lock | None:
        """The lock with this id, if it belongs to the organisation."""
        return self._session.scalar(
            _owned(select(Lock).where(Lock.id == lock_id), Lock, organisation_id)
        )

    def find(self, organisation_id: str, reference: str) -> Lock | None:
        """The lock known by id, external id or exact name (in that order);
        ``AmbiguousReference`` when several share it."""
        for column in (Lock.id, Lock.external_id, Lock.name):
            query = select(Lock).where(column == reference).options(selectinload(Lock.properties))
            query = _owned(query, Lock, organisation_id)
            found = list(self._session.scalars(query.limit(6)))
            if len(found) == 1:
                return found[0]
            if found:
                raise AmbiguousReference("locks", reference, sorted(lock.id for lock in found))
        return None

    def by_provider_id(self, provider: str, external_id: str) -> Lock | None:
        """The lock a provider knows as ``external_id``, in whichever organisation it is.

        Deliberately not scoped: a device may belong to one organisation only, and adding a
        lock must find out whether another has it already.
        """
        query = select(Lock).where(Lock.provider == provider, Lock.external_id == external_id)
        return self._session.scalar(query)

    def all(self, organisation_id: str) -> list[Lock]:
        """The organisation's locks, by name, properties loaded."""
        query = _owned(select(Lock), Lock, organisation_id)
        query = query.options(selectinload(Lock.properties)).order_by(Lock.name)
        return list(self._session.scalars(query))

    def remove(self, lock: Lock) -> None:
        """Forget a lock (its lock-code rows and links go with it)."""
        self._session.delete(lock)

    def request_sync(self, lock_ids: Collection[str], at: datetime) -> None:
        """Mark the locks' desired state as changed at ``at``.

        The UPDATE also serialises writers on these locks (row locks on PostgreSQL, the write
        lock on SQLite), so two code allocations for the same lock never race.
        """
        if not lock_ids:
            return
        if _changes_pending(self._session, (Lock,)):
            self._session.flush()  # a lock added in this transaction must exist to be marked
        # Nothing else pending matters to an UPDATE of lock rows: it waits for the
        # transaction's next flush instead of costing one of its own here (a new booking's
        # reservation would otherwise be flushed alone, and its grant in a second flush).
        with self._session.no_autoflush:
            ordered = sorted(lock_ids)
            if len(ordered) > 1 and _has_row_locks(self._session):
                # Row locks taken in id order first, so two writers whose lock sets overlap
                # queue instead of deadlocking; the UPDATE alone would take them in whatever
                # order it meets the rows. One row has no order to get wrong. SQLite has one
                # writer and no row locks: there the SELECT (its FOR UPDATE dropped) would
                # lock nothing, so it is not sent.
                held = select(Lock.id).where(Lock.id.in_(ordered)).order_by(Lock.id)
                self._session.execute(held.with_for_update())
            self._session.connection().execute(_request_sync(), {"lock_ids": ordered, "at": at})
            self._mark_loaded(ordered, at)

    def _mark_loaded(self, lock_ids: Collection[str], at: datetime) -> None:
        """Bring the marks of the locks this session has loaded up to date with the UPDATE.

        The UPDATE goes to the table directly: the ORM's own bulk UPDATE cost about a tenth
        of a new booking's CPU, mostly in working out which loaded objects to bring up to
        date, which this does for the one or two locks of a booking. The count is the loaded
        one plus one, as the ORM's UPDATE had it: a lock loaded before another transaction
        committed its own mark shows one less than stored, to this session only.
        """
        for lock_id in lock_ids:
            lock = self._session.identity_map.get(identity_key(Lock, lock_id))
            if not isinstance(lock, Lock):
                continue
            loaded = lock.__dict__
            if "sync_requested_at" in loaded:
                set_committed_value(lock, "sync_requested_at", at)
            if "sync_requests" in loaded:
                set_committed_value(lock, "sync_requests", loaded["sync_requests"] + 1)


@dataclass(frozen=True, slots=True)
class ReservationFilter:
    """Which reservations a listing shows."""

    status: str | None = None
    property_id: str | None = None
    source: str | None = None
    active_at_or_after: datetime | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0
    starts_before: datetime | None = None
    guest_name: str | None = None
    # Words found in the guest's name, email or phone, the booking reference or the property.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBooking:
    """A stored reservation as a delivery of it sees it first: enough to tell a replay."""

    reservation_id: str
    property_id: str
    names_property: bool
    """Whether the delivery's property reference resolves to the reservation's property."""
    fingerprint: str
    source_version: int | None
    guest_name: str
    guest_email: str | None
    guest_phone: str | None
    guest_locale: str | None
    guest_count: int | None
    booking_reference: str | None
    guest_grant_id: str | None


class ReservationRepository:
    """Reservations of an organisation; the only place guidebook tokens are made and read."""

    def __init__(self, session: Session, cipher: CodeCipher) -> None:
        self._session = session
        self._cipher = cipher

    def add(self, reservation: Reservation) -> None:
        """Stage a new reservation, with the token of its guidebook link made here, once."""
        token = new_guide_token()
        reservation.guide_token_digest = _guide_token_digest(token)
        reservation.guide_token_encrypted = self._cipher.encrypt(token)
        self._session.add(reservation)

    def get(self, organisation_id: str, reservation_id: str) -> Reservation | None:
        """The reservation with this id, if it belongs to the organisation."""
        query = select(Reservation).where(Reservation.id == reservation_id)
        return self._session.scalar(_owned(query, Reservation, organisation_id))

    def by_source(
        self, organisation_id: str, source: str, external_id: str, *, fresh: bool = False
    ) -> Reservation | None:
        """The reservation a source knows as ``external_id``; ``fresh`` reads it again even if
        this session holds a copy (another transaction may have changed it meanwhile)."""
        parameters = {
            "organisation_id": organisation_id,
            "source": source,
            "external_id": external_id,
        }
        query = _reservation_by_source()
        if fresh:
            query = query.execution_options(populate_existing=True)
        return self._session.scalar(query, parameters)

    def property_of(self, organisation_id: str, source: str, external_id: str) -> str | None:
        """The property of the reservation a source knows as ``external_id``, read fresh.

        Only the column is read, so no stale copy of the reservation is kept in the
        session before the caller holds the properties it may change.
        """
        query = select(Reservation.property_id).where(
            Reservation.organisation_id == organisation_id,
            Reservation.source == source,
            Reservation.external_id == external_id,
        )
        return self._session.scalar(query)

    def stored_booking(
        self, organisation_id: str, source: str, external_id: str, property_reference: str
    ) -> StoredBooking | None:
        """What a replayed delivery must be compared with, in one statement and no ORM object:
        the reservation's content digest, contact, version and guest grant, and whether
        ``property_reference`` names its property.

        Read without flushing this session: it is the first read of a delivery's work.
        """
        parameters = {
            "organisation_id": organisation_id,
            "source": source,
            "external_id": external_id,
            "reference": property_reference,
        }
        row = self._session.connection().execute(_stored_booking(), parameters).first()
        if row is None:
            return None
        return StoredBooking(
            reservation_id=row.id,
            property_id=row.property_id,
            names_property=bool(row.names_property),
            fingerprint=row.fingerprint,
            source_version=row.source_version,
            guest_name=row.guest_name,
            guest_email=row.guest_email,
            guest_phone=row.guest_phone,
            guest_locale=row.guest_locale,
            guest_count=row.guest_count,
            booking_reference=row.booking_reference,
            guest_grant_id=row.guest_grant_id,
        )

    def by_guide_token(self, guide_token: str) -> Reservation | None:
        """The reservation whose guidebook link carries ``guide_token``, in any organisation.

        The token is the guest's only credential, so this is the one unscoped lookup a
        request from outside can make. It compares digests of the whole token: the database
        holds no token in clear, and no prefix of the token decides anything.
        """
        digest = _guide_token_digest(guide_token)
        query = select(Reservation).where(Reservation.guide_token_digest == digest)
        return self._session.scalar(query.options(selectinload(Reservation.property)))

    def guide_token_of(self, reservation: Reservation) -> str:
        """The token of the reservation's guidebook link in clear, to write the link out."""
        return self._cipher.decrypt(reservation.guide_token_encrypted)

    def of_property_ending_after(self, property_id: str, at: datetime) -> list[Reservation]:
        """The property's reservations that are not over yet."""
        query = select(Reservation).where(
            Reservation.property_id == property_id, Reservation.ends_at > at
        )
        return list(self._session.scalars(query.order_by(Reservation.starts_at)))

    def by_external_id(self, organisation_id: str, external_id: str) -> list[Reservation]:
        """Every reservation known as ``external_id``, whichever source recorded it."""
        query = select(Reservation).where(Reservation.external_id == external_id)
        return list(self._session.scalars(_owned(query, Reservation, organisation_id).limit(10)))

    def confirmed_overlapping(
        self, property_id: str, starts_at: datetime, ends_at: datetime, *, flush: bool = True
    ) -> list[Reservation]:
        """The property's confirmed stays whose windows share an instant with the one given.

        ``flush=False`` reads the stored rows without sending pending changes first: for a
        caller that knows none of them is another stay (see ``review_overlaps``).
        """
        parameters = {"property_id": property_id, "starts_at": starts_at, "ends_at": ends_at}
        if flush:
            return list(self._session.scalars(_confirmed_overlapping(), parameters))
        with self._session.no_autoflush:
            return list(self._session.scalars(_confirmed_overlapping(), parameters))

    def search(self, organisation_id: str, which: ReservationFilter) -> list[Reservation]:
        """Reservations matching ``which``, soonest check-in first."""
        query = _reservation_query(select(Reservation), organisation_id, which)
        query = query.order_by(Reservation.starts_at, Reservation.id)
        query = query.options(selectinload(Reservation.property))
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))

    def count(self, organisation_id: str, which: ReservationFilter) -> int:
        """How many reservations match ``which`` (its limit and offset aside), for paging."""
        query = _reservation_query(select(func.count(Reservation.id)), organisation_id, which)
        return self._session.scalar(query) or 0


def _reservation_query(query: SelectT, organisation_id: str, which: ReservationFilter) -> SelectT:
    """``query`` narrowed to the organisation's reservations that match ``which``."""
    query = _owned(query, Reservation, organisation_id)
    if which.status:
        query = query.where(Reservation.status == which.status)
    if which.property_id:
        query = query.where(Reservation.property_id == which.property_id)
    if which.source:
        query = query.where(Reservation.source == which.source)
    if which.active_at_or_after:
        query = query.where(Reservation.ends_at > which.active_at_or_after)
    if which.starts_before:
        query = query.where(Reservation.starts_at < which.starts_before)
    if which.guest_name:
        pattern = "%" + which.guest_name.replace("%", "").replace("_", "").lower() + "%"
        query = query.where(func.lower(Reservation.guest_name).like(pattern))
    if which.text:
        query = query.where(_reservation_text_matches(which.text))
    return query


@dataclass(frozen=True, slots=True)
class GrantFilter:
    """Which grants a listing shows.

    ``kinds`` keeps only those kinds and ``excluding_kinds`` drops those; both are applied in
    the query, before ``limit``, so a page of one kind is never crowded out by another.
    """

    kind: str | None = None
    kinds: tuple[str, ...] | None = None
    excluding_kinds: tuple[str, ...] = ()
    reservation_id: str | None = None
    property_id: str | None = None
    lock_id: str | None = None
    include_revoked: bool = True
    ending_after: datetime | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0


class GrantRepository:
    """Grants of an organisation; the only place codes are encrypted and decrypted."""

    def __init__(self, session: Session, cipher: CodeCipher) -> None:
        self._session = session
        self._cipher = cipher

    def add(self, grant: Grant) -> None:
        """Stage a new grant."""
        self._session.add(grant)

    def get(self, organisation_id: str, grant_id: str) -> Grant | None:
        """The grant with this id, if it belongs to the organisation."""
        query = select(Grant).where(Grant.id == grant_id).options(selectinload(Grant.lock_codes))
        return self._session.scalar(_owned(query, Grant, organisation_id))

    def guest_grant_of(self, reservation_id: str) -> Grant | None:
        """The one guest grant a reservation has, if it was ever confirmed."""
        # One statement with its lock codes joined: every change of a booking asks for it.
        found = self._session.scalars(_guest_grant_of(), {"reservation_id": reservation_id})
        return found.unique().one_or_none()

    def guest_grants_of(self, reservation_ids: Collection[str]) -> dict[str, Grant]:
        """The guest grants of several reservations, by reservation id."""
        query = select(Grant).where(
            Grant.reservation_id.in_(sorted(reservation_ids)), _is_guest_grant()
        )
        grants = self._session.scalars(query.options(selectinload(Grant.lock_codes)))
        return {grant.reservation_id: grant for grant in grants if grant.reservation_id}

    def standing_backups(self, property_id: str, now: datetime) -> list[Grant]:
        """The property's unreleased, unrevoked backup grants not over yet, earliest first."""
        query = select(Grant).where(
            Grant.property_id == property_id,
            Grant.kind == GrantKind.BACKUP.value,
            Grant.reservation_id.is_(None),
            Grant.revoked_at.is_(None),
            Grant.ends_at > now,
        )
        query = query.options(selectinload(Grant.lock_codes)).order_by(Grant.starts_at)
        return list(self._session.scalars(query))

    def tied_to(self, reservation_id: str, kind: str) -> list[Grant]:
        """Grants of ``kind`` tied to a reservation (a guest's released backup code, say)."""
        query = select(Grant).where(Grant.reservation_id == reservation_id, Grant.kind == kind)
        return list(self._session.scalars(query))

    def tied_to_any(self, reservation_id: str) -> list[Grant]:
        """Every grant tied to a reservation: its guest grant and any backup released to it."""
        query = select(Grant).where(Grant.reservation_id == reservation_id)
        return list(self._session.scalars(query.order_by(Grant.created_at)))

    def turnovers_of(
        self, property_id: str, ending_after: datetime, *, revoked: bool = False
    ) -> list[Grant]:
        """The property's turnover codes not over by ``ending_after``: live ones, or revoked."""
        query = select(Grant).where(
            Grant.property_id == property_id,
            Grant.turnover_after.is_not(None),
            Grant.revoked_at.is_not(None) if revoked else Grant.revoked_at.is_(None),
            Grant.ends_at > ending_after,
        )
        return list(self._session.scalars(query.options(selectinload(Grant.lock_codes))))

    def of_property(self, property_id: str) -> list[Grant]:
        """Grants that follow the property's lock group."""
        query = select(Grant).where(Grant.property_id == property_id)
        return list(self._session.scalars(query.options(selectinload(Grant.lock_codes))))

    def search(self, organisation_id: str, which: GrantFilter) -> list[Grant]:
        """Grants matching ``which``, soonest start first."""
        query = _owned(select(Grant), Grant, organisation_id).options(
            selectinload(Grant.lock_codes)
        )
        if which.kind:
            query = query.where(Grant.kind == which.kind)
        if which.kinds is not None:
            query = query.where(Grant.kind.in_(which.kinds))
        if which.excluding_kinds:
            query = query.where(Grant.kind.not_in(which.excluding_kinds))
        if which.reservation_id:
            query = query.where(Grant.reservation_id == which.reservation_id)
        if which.property_id:
            query = query.where(Grant.property_id == which.property_id)
        if which.lock_id:
            query = query.where(Grant.lock_codes.any(LockCode.lock_id == which.lock_id))
        if not which.include_revoked:
            query = query.where(Grant.revoked_at.is_(None))
        if which.ending_after:
            query = query.where(Grant.ends_at > which.ending_after)
        query = query.order_by(Grant.starts_at, Grant.id)
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))

    def code_of(self, grant: Grant) -> str:
        """The grant's code in clear, for authorised eyes and for the locks."""
        return self._cipher.decrypt(grant.code_token)

    def set_code(self, grant: Grant, code: str) -> None:
        """Store ``code`` for the grant, encrypted."""
        grant.code_token = self._cipher.encrypt(code)

    def codes_in_use(
        self, lock_ids: Collection[str], window: TimeWindow, excluding: str | None = None
    ) -> list[str]:
        """Codes of unrevoked grants whose windows overlap ``window`` on any of the locks."""
        if not lock_ids:
            return []
        parameters = {
            "lock_ids": sorted(lock_ids),
            "window_starts": window.starts_at,
            "window_ends": window.ends_at,
        }
        if _changes_pending(self._session, (Grant, LockCode)):
            self._session.flush()  # a code chosen or freed in this transaction counts
        # Anything else pending (a new booking's reservation) cannot change the codes in use:
        # it waits for the transaction's next flush instead of being flushed alone here.
        with self._session.no_autoflush:
            if excluding is None:
                tokens = self._session.scalars(_codes_in_use(), parameters)
            else:
                tokens = self._session.scalars(
                    _codes_in_use_but(), {**parameters, "grant_id": excluding}
                )
            return [self._cipher.decrypt(token) for token in tokens]

    def set_locks(self, grant: Grant, lock_ids: Collection[str]) -> None:
        """Make the grant's lock codes exactly one per lock in ``lock_ids``."""
        wanted = set(lock_ids)
        kept = [code for code in grant.lock_codes if code.lock_id in wanted]
        present = {code.lock_id for code in kept}
        grant.lock_codes = kept + [
            self._new_lock_code(lock_id) for lock_id in sorted(wanted - present)
        ]

    def _new_lock_code(self, lock_id: str) -> LockCode:
        """A lock code for ``lock_id``, with its lock already attached when this session has
        loaded it (the property's locks usually are): reading ``lock`` then costs no query,
        before or after the row is written."""
        lock = self._session.identity_map.get(identity_key(Lock, lock_id))
        return (
            LockCode(lock_id=lock_id, lock=lock) if lock is not None else LockCode(lock_id=lock_id)
        )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which audit events a listing shows."""

    subject_type: str | None = None
    subject_id: str | None = None
    kind: str | None = None
    since: datetime | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0
    actor: str | None = None


class EventRepository:
    """The append-only audit log: there is no update and no delete.

    Events are written in one batch when the transaction flushes its work (commit, an
    explicit flush, or a read of the log), not one INSERT each as they are recorded: a new
    booking records several, and each used to cost a statement and an ORM flush of its own.
    Nothing in a transaction needs an event's id, and nothing refers to an event.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self,
        organisation_id: str,
        *,
        at: datetime,
        actor: str,
        kind: str,
        subject: tuple[str, str],
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append one event; ``subject`` is (type, id) of what it is about."""
        _pending_events(self._session).append(
            {
                "organisation_id": organisation_id,
                "occurred_at": at,
                "actor": actor,
                "kind": kind,
                "subject_type": subject[0],
                "subject_id": subject[1],
                "reason": reason,
                "details": details or {},
            }
        )

    def search(self, organisation_id: str, which: EventFilter) -> list[Event]:
        """Events matching ``which``, newest first."""
        write_pending_events(self._session)
        query = _event_query(select(Event), organisation_id, which).order_by(Event.id.desc())
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))

    def count(self, organisation_id: str, which: EventFilter) -> int:
        """How many events match ``which`` (its limit and offset aside), for paging."""
        write_pending_events(self._session)
        query = _event_query(select(func.count(Event.id)), organisation_id, which)
        return self._session.scalar(query) or 0


_PENDING_EVENTS = "doorcode.pending_events"
"""``session.info`` key: events recorded in this session and not written yet, in order."""


def _pending_events(session: Session) -> list[dict[str, Any]]:
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING_EVENTS, [])
    return pending


def write_pending_events(session: Session) -> None:
    """Write the events recorded in ``session`` so far, in one statement, in their order.

    Called before a commit or a flush, and by every reader of the events table, so a
    transaction always sees its own events. A rollback or a closed session forgets them.
    """
    pending = session.info.pop(_PENDING_EVENTS, None)
    if pending:
        session.connection().execute(_INSERT_EVENTS, pending)


def forget_pending_events(session: Session) -> None:
    """Drop the events recorded in ``session`` and not written: its work is rolled back."""
    session.info.pop(_PENDING_EVENTS, None)


_INSERT_EVENTS = insert(Event.__table__)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a listing shows."""

    include_cleared: bool = False
    subject_id: str | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0


class AlertRepository:
    """Alerts: at most one open per (kind, subject), closed when the problem is gone."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def open_for(self, kind: str, subject_ids: Collection[str]) -> dict[str, Alert]:
        """The open alerts of ``kind`` about these subjects, by subject id (any organisation)."""
        found: dict[str, Alert] = {}
        ordered = sorted(subject_ids)
        for start in range(0, len(ordered), 5_000):
            query = select(Alert).where(
                Alert.kind == kind,
                Alert.subject_id.in_(ordered[start : start + 5_000]),
                Alert.cleared_at.is_(None),
            )
            found.update((alert.subject_id, alert) for alert in self._session.scalars(query))
        return found

    def add(self, alert: Alert) -> None:
        """Stage a new alert."""
        self._session.add(alert)

    def get(self, organisation_id: str, alert_id: str) -> Alert | None:
        """The alert with this id, if it belongs to the organisation."""
        query = select(Alert).where(Alert.id == alert_id)
        return self._session.scalar(_owned(query, Alert, organisation_id))

    def open_alert(self, organisation_id: str, kind: str, subject: tuple[str, str]) -> Alert | None:
        """The open alert of ``kind`` about ``subject``, if there is one."""
        query = select(Alert).where(
            Alert.organisation_id == organisation_id,
            Alert.kind == kind,
            Alert.subject_type == subject[0],
            Alert.subject_id == subject[1],
            Alert.cleared_at.is_(None),
        )
        return self._session.scalar(query)

    def open_alerts(
        self, organisation_id: str, subject: tuple[str, str] | None = None
    ) -> list[Alert]:
        """The organisation's open alerts, about ``subject`` if given, oldest first."""
        query = select(Alert).where(
            Alert.organisation_id == organisation_id, Alert.cleared_at.is_(None)
        )
        if subject is not None:
            query = query.where(Alert.subject_type == subject[0], Alert.subject_id == subject[1])
        return list(self._session.scalars(query.order_by(Alert.raised_at, Alert.id)))

    def search(self, organisation_id: str, which: AlertFilter) -> list[Alert]:
        """Alerts matching ``which``, newest first."""
        query = _owned(select(Alert), Alert, organisation_id)
        if not which.include_cleared:
            query = query.where(Alert.cleared_at.is_(None))
        if which.subject_id:
            query = query.where(Alert.subject_id == which.subject_id)
        query = query.order_by(Alert.raised_at.desc(), Alert.id)
        return list(self._session.scalars(query.limit(which.limit).offset(which.offset)))


def _changes_pending(session: Session, kinds: tuple[type[Base], ...]) -> bool:
    """Whether the session holds unflushed changes a query of ``kinds`` must see first.

    Any deletion counts (its cascades reach other tables); otherwise only new or changed
    objects of these kinds do.
    """
    if session.deleted:
        return True
    return any(isinstance(pending, kinds) for pending in (*session.new, *session.dirty))


def _has_row_locks(session: Session) -> bool:
    """Whether ``SELECT ... FOR UPDATE`` locks rows on this session's database (not SQLite)."""
    return session.get_bind().dialect.name != "sqlite"


def _like_pattern(text: str) -> str:
    """A case-folded LIKE pattern finding ``text`` anywhere; the user's wildcards are dropped."""
    return "%" + text.replace("%", "").replace("_", "").replace("\\", "").lower() + "%"


def _reservation_text_matches(text: str) -> Any:
    """Whether any of a reservation's searchable fields holds ``text``."""
    pattern = _like_pattern(text)
    fields = (
        Reservation.guest_name,
        Reservation.guest_email,
        Reservation.guest_phone,
        Reservation.external_id,
    )
    in_property = Reservation.property.has(
        or_(func.lower(Property.name).like(pattern), func.lower(Property.address).like(pattern))
    )
    return or_(*(func.lower(field).like(pattern) for field in fields), in_property)


def _event_query(query: SelectT, organisation_id: str, which: EventFilter) -> SelectT:
    """``query`` narrowed to the organisation's events that match ``which``."""
    query = _owned(query, Event, organisation_id)
    if which.subject_type:
        query = query.where(Event.subject_type == which.subject_type)
    if which.subject_id:
        query = query.where(Event.subject_id == which.subject_id)
    if which.kind:
        query = query.where(Event.kind == which.kind)
    if which.since:
        query = query.where(Event.occurred_at >= which.since)
    if which.actor:
        query = query.where(Event.actor == which.actor)
    return query


def _owned(query: SelectT, model: Any, organisation_id: str) -> SelectT:
    return query.where(model.organisation_id == organisation_id)


def _guide_token_digest(guide_token: str) -> str:
    """What the database keeps to find a guidebook link's reservation.

    A plain SHA-256 suffices, no salt or key: the token has 192 random bits, so nobody can
    search for it, and the lookup keeps working whichever secret keys are configured.
    """
    return hashlib.sha256(guide_token.encode()).hexdigest()


# Statements every webhook delivery runs, built once, on first use: building a statement and
# its cache key cost more CPU than SQLite took to run it. Not at import: building them
# configures the mappers, which a CLI command that never queries these tables need not pay.


def _is_guest_grant() -> ColumnElement[bool]:
    """Written out, not a parameter: only then can SQLite (and PostgreSQL's generic plans)
    use the partial index on guest grants' reservation ids; with a parameter every lookup of
    a booking's grant scanned the whole grants table, a cost that grew with the bookings."""
    return Grant.kind == literal_column("'guest'")


@cache
def _find_property() -> Select[Property]:
    """The properties a reference may name, with their locks in the same read.

    The locks are joined flat (property, its links, their locks), not as ``joinedload``'s
    nested join, which SQLite answers by scanning every property's links on each delivery.
    Each way of naming carries the organisation itself, so each is one index lookup: with
    the organisation factored out, SQLite walks all of the organisation's properties.
    """
    owned = Property.organisation_id == bindparam("organisation_id")
    reference: BindParameter[str] = bindparam("reference")
    return (
        select(Property)
        .outerjoin(property_locks, property_locks.c.property_id == Property.id)
        .outerjoin(Lock, Lock.id == property_locks.c.lock_id)
        .where(
            or_(
                and_(Property.id == reference, owned),
                and_(owned, Property.external_id == reference),
                and_(owned, Property.name == reference),
            ),
        )
        .options(contains_eager(Property.locks))
        .order_by(Property.id, Lock.name)
    )


@cache
def _reservation_by_source() -> Select[Reservation]:
    return select(Reservation).where(
        Reservation.organisation_id == bindparam("organisation_id"),
        Reservation.source == bindparam("source"),
        Reservation.external_id == bindparam("external_id"),
    )


@cache
def _stored_booking() -> Select[*tuple[Any, ...]]:
    """The reservation a source knows, its guest grant's id, and whether the reference names
    its property as ``PropertyRepository.find`` would: by id, or by external id when no other
    property has that id (external ids are unique in an organisation). A reference that
    names it only by its name says False, and the delivery takes the full path."""
    other = aliased(Property)
    reference: BindParameter[str] = bindparam("reference")
    organisation: BindParameter[str] = bindparam("organisation_id")
    another_has_that_id = exists().where(
        other.organisation_id == organisation,
        other.id == reference,
        other.id != Reservation.property_id,
    )
    names_property = or_(
        Reservation.property_id == reference,
        and_(Property.external_id == reference, ~another_has_that_id),
    )
    guest_grant = and_(Grant.reservation_id == Reservation.id, _is_guest_grant())
    return (
        select(
            Reservation.id,
            Reservation.property_id,
            names_property.label("names_property"),
            Reservation.fingerprint,
            Reservation.source_version,
            Reservation.guest_name,
            Reservation.guest_email,
            Reservation.guest_phone,
            Reservation.guest_locale,
            Reservation.guest_count,
            Reservation.booking_reference,
            Grant.id.label("guest_grant_id"),
        )
        .join(Property, Property.id == Reservation.property_id)
        .outerjoin(Grant, guest_grant)
        .where(
            Reservation.organisation_id == organisation,
            Reservation.source == bindparam("source"),
            Reservation.external_id == bindparam("external_id"),
        )
    )


@cache
def _confirmed_overlapping() -> Select[Reservation]:
    return (
        select(Reservation)
        .where(
            Reservation.property_id == bindparam("property_id"),
            Reservation.status == "confirmed",
            Reservation.starts_at < bindparam("ends_at"),
            Reservation.ends_at > bindparam("starts_at"),
        )
        .order_by(Reservation.starts_at)
        .limit(50)
    )


@cache
def _guest_grant_of() -> Select[Grant]:
    return (
        select(Grant)
        .where(Grant.reservation_id == bindparam("reservation_id"), _is_guest_grant())
        .options(joinedload(Grant.lock_codes))
    )


@cache
def _codes_in_use() -> Select[str]:
    return (
        select(Grant.code_token)
        .where(
            Grant.revoked_at.is_(None),
            Grant.starts_at < bindparam("window_ends"),
            Grant.ends_at > bindparam("window_starts"),
            Grant.lock_codes.any(LockCode.lock_id.in_(bindparam("lock_ids", expanding=True))),
        )
        .distinct()
    )


@cache
def _codes_in_use_but() -> Select[str]:
    return _codes_in_use().where(Grant.id != bindparam("grant_id"))


@cache
def _request_sync() -> Update:
    locks = cast(Table, Lock.__table__)
    return (
        update(locks)
        .where(locks.c.id.in_(bindparam("lock_ids", expanding=True)))
        .values(sync_requested_at=bindparam("at"), sync_requests=locks.c.sync_requests + 1)
    )
