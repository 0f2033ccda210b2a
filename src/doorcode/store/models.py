"""The tables, as SQLAlchemy mapped classes; the one schema both SQLite and PostgreSQL hold.

Rows are the persistent shape of the domain words (property, lock, reservation, grant, lock
code, event). Every row belongs to one organisation and every repository query filters on it.
Codes are stored only as Fernet tokens (``code_token``); the repository decrypts them.
Guidebook tokens likewise, beside a digest to look them up by.

Annotations here are evaluated as the classes are made (no ``from __future__ import
annotations``): as strings, SQLAlchemy would evaluate each of the ~400 ``Mapped[...]`` on its
own, about 9 ms of every command's start. References to a class defined further down are
quoted.
"""

from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from doorcode.store.column_types import UtcDateTime
from doorcode.store.ids import new_id

__all__ = [
    "AccessCursor",
    "AccessEventRow",
    "Alert",
    "ApiKey",
    "Base",
    "Event",
    "FailedAttempt",
    "Feed",
    "FeedEntry",
    "Grant",
    "HostNotice",
    "Lock",
    "LockCode",
    "LockHealthSample",
    "Message",
    "MessageAttempt",
    "MessageDelivery",
    "MessageRule",
    "MessageTemplate",
    "OfflineBlock",
    "OfflineKeyGroup",
    "Organisation",
    "OutboxCursor",
    "Property",
    "ProviderAccountRow",
    "PulledBackupCode",
    "PushDelivery",
    "Reservation",
    "Source",
    "StaffSchedule",
    "User",
    "WebSession",
    "WebhookDelivery",
    "describe_postgresql_partial_indexes",
    "property_locks",
    "schedule_properties",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: instants are aware UTC on every database."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


_PARTIAL_INDEXES: list[tuple[Index, str]] = []


def _partial_unique_index(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows matching ``where``, on SQLite and (see below) PostgreSQL."""
    index = Index(name, *columns, unique=True, sqlite_where=text(where))
    _PARTIAL_INDEXES.append((index, where))
    return index


def describe_postgresql_partial_indexes() -> None:
    """Give the partial unique indexes their PostgreSQL predicate; calling it again is harmless.

    Written in the class bodies (``postgresql_where=``), the predicate makes SQLAlchemy import
    its whole PostgreSQL dialect to check the keyword, in every process, SQLite ones included:
    each CLI command on SQLite paid tens of milliseconds for it. The engine factory calls this
    when it opens a PostgreSQL database, before any DDL could be emitted there. The
    migrations create the same predicates themselves.
    """
    for index, where in _PARTIAL_INDEXES:
        index.dialect_kwargs["postgresql_where"] = text(where)


def _predicates_before_create(_metadata: MetaData, connection: Any, **_: Any) -> None:
    """Whatever engine creates the tables on PostgreSQL (``create_all`` on a plain engine, a
    tool), the partial indexes get their predicate: without it each would be a full unique
    index (a slot never free again, one alert per lock for ever)."""
    if connection.dialect.name == "postgresql":
        describe_postgresql_partial_indexes()


event.listen(Base.metadata, "before_create", _predicates_before_create)


def _id(prefix: str) -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=lambda: new_id(prefix))


def _organisation() -> Mapped[str]:
    return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class Organisation(Base):
    """A host or property manager: owns everything else."""

    __tablename__ = "organisations"

    id: Mapped[str] = _id("org")
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # Who guests should contact about their stay; shown in guest messages.
    host_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    host_email: Mapped[str | None] = mapped_column(String(320))
    host_phone: Mapped[str | None] = mapped_column(String(40))


class ApiKey(Base):
    """A machine's credential; only a SHA-256 of the secret part is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = _id("key")
    organisation_id: Mapped[str] = _organisation()
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


property_locks = Table(
    "property_locks",
    Base.metadata,
    Column("property_id", ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True),
    Column("lock_id", ForeignKey("locks.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Property(Base):
    """A bookable unit: its zone, default times and code policy; its locks are its lock group."""

    __tablename__ = "properties"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        # A delivery may name its property by name: found by index, not by walking the
        # organisation's properties.
        Index("ix_properties_organisation_id_name", "organisation_id", "name"),
    )

    id: Mapped[str] = _id("prp")
    organisation_id: Mapped[str] = _organisation()
    name: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    check_in_time: Mapped[time] = mapped_column(Time())
    check_out_time: Mapped[time] = mapped_column(Time())
    code_length: Mapped[int] = mapped_column(Integer)
    code_alphabet: Mapped[str] = mapped_column(String(16))
    native_lead_minutes: Mapped[int] = mapped_column(Integer, default=4320, server_default="4320")
    unscheduled_lead_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # How long before check-in the guidebook shows a guest their codes.
    code_reveal_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    backup_codes: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Whether a guest's first opening of the door is told to the host, and the local hour on
    # the arrival day after which a guest who has not opened yet is told as a no-show.
    arrival_notices: Mapped[bool] = mapped_column(default=True, server_default=true())
    no_show_time: Mapped[time] = mapped_column(
        Time(), default=time(23, 0), server_default="23:00:00"
    )
    # A code for the cleaner from each check-out to the next check-in, at most this many hours
    # (no turnover codes while the holder is empty).
    turnover_holder: Mapped[str] = mapped_column(String(200), default="", server_default="")
    turnover_max_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # The guidebook's own pages, Markdown by topic (wifi, directions, parking, house_rules,
    # check_out); shown sanitised to the guest.
    guide: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    locks: Mapped[list["Lock"]] = relationship(
        secondary=property_locks, back_populates="properties", order_by="Lock.name"
    )


class ProviderAccountRow(Base):
    """An organisation's credentials at one lock back-end; its locks are imported from it.

    ``credentials_token`` is the Fernet token of a JSON object (API key, password hash,
    webhook secret...): never shown, never logged, decrypted only to build the account's
    provider. ``options`` holds what is not secret (a regional or test base URL).
    ``refused_at`` is set when the back-end refused the credentials: the account's locks stop
    until an operator reconnects it with new ones.
    """

    __tablename__ = "provider_accounts"
    __table_args__ = (UniqueConstraint("organisation_id", "label"),)

    id: Mapped[str] = _id("pac")
    organisation_id: Mapped[str] = _organisation()
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200))
    credentials_token: Mapped[str] = mapped_column(Text())
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    refused_at: Mapped[datetime | None]
    refused_reason: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[datetime | None]


class Lock(Base):
    """One device behind one provider; ``capabilities`` is what its back-end reports.

    The sync columns let any process tell whether a lock needs the reconciler:
    ``sync_requests`` grows with every change of its grants and ``synced_requests`` records
    how many of those the last completed pass had seen; ``next_sync_at`` is when its desired
    codes next change or a failed operation is due again.
    """

    __tablename__ = "locks"
    # A device is known once per account; ``services/locks.py`` also refuses a device another
    # organisation already has at the same kind of back-end, since two organisations on one
    # device would open and delete each other's codes.
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[str] = _id("lck")
    organisation_id: Mapped[str] = _organisation()
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("provider_accounts.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    capabilities: Mapped[dict[str, Any]]
    # What a guest needs at this door: which one it is and how to type the code (arrival), and
    # anything to do when leaving (departure). Markdown, shown sanitised.
    arrival_note: Mapped[str] = mapped_column(Text(), default="", server_default="")
    departure_note: Mapped[str] = mapped_column(Text(), default="", server_default="")
    # Lock health as the back-end last reported it (None: it does not say).
    health_online: Mapped[bool | None] = mapped_column(Boolean())
    health_battery: Mapped[int | None] = mapped_column(Integer)
    health_contact_at: Mapped[datetime | None]
    health_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sync_requested_at: Mapped[datetime | None]
    offline_key_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("offline_key_groups.id", ondelete="SET NULL"), index=True
    )
    # The user-code slots doorcode owns on a slot-addressed lock (NULL: the default range).
    slot_first: Mapped[int | None] = mapped_column(Integer)
    slot_last: Mapped[int | None] = mapped_column(Integer)
    sync_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None] = mapped_column(index=True)
    sync_error: Mapped[str | None] = mapped_column(String(500))
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sync_retry_at: Mapped[datetime | None]
    unmanaged_codes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # When a pass first completed the lock's listing and recorded its codes: on a slot lock,
    # the codes found before that are the owner's (a pass that failed or crashed is no inventory).
    inventoried_at: Mapped[datetime | None]

    properties: Mapped[list["Property"]] = relationship(
        secondary=property_locks, back_populates="locks", order_by="Property.name"
    )
    account: Mapped["ProviderAccountRow | None"] = relationship()


class Reservation(Base):
    """A booking from a source, identified by (source, external id) within an organisation."""

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source", "external_id"),
        # The property's stays not over yet (overlaps, turnovers): never its whole history.
        Index("ix_reservations_property_ending", "property_id", "ends_at"),
    )

    id: Mapped[str] = _id("res")
    organisation_id: Mapped[str] = _organisation()
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    property_id: Mapped[str] = mapped_column(ForeignKey("properties.id"))
    status: Mapped[str] = mapped_column(String(16))
    check_in: Mapped[date] = mapped_column(Date())
    check_out: Mapped[date] = mapped_column(Date())
    check_in_at: Mapped[time | None] = mapped_column(Time())
    check_out_at: Mapped[time | None] = mapped_column(Time())
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    guest_name: Mapped[str] = mapped_column(String(200), default="")
    guest_email: Mapped[str | None] = mapped_column(String(320))
    guest_phone: Mapped[str | None] = mapped_column(String(40))
    guest_locale: Mapped[str | None] = mapped_column(String(16))
    guest_count: Mapped[int | None]
    booking_reference: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The source's own ordering of its updates (a sequence, or updated-at in microseconds):
    # a delivery older than this one changes nothing.
    source_version: Mapped[int | None] = mapped_column(BigInteger)
    # The guest's guidebook link (``/guide/<token>``): unguessable, made once at creation by
    # ``ReservationRepository.add``. The token is the guest's only credential, so it is never
    # kept in clear: a SHA-256 digest finds the reservation when a link is opened, and a
    # Fernet copy lets doorcode write the link into messages and show it to operators.
    guide_token_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    guide_token_encrypted: Mapped[str] = mapped_column(Text())

    property: Mapped["Property"] = relationship()


class Grant(Base):
    """Who may open which locks with which code from ``starts_at`` to ``ends_at``.

    ``property_id`` is set when the grant follows a property's lock group (guest grants do);
    otherwise its locks were chosen one by one. ``version`` grows with every change of code or
    window, so a message about version 3 is never mistaken for one about version 2.
    """

    __tablename__ = "grants"
    __table_args__ = (
        _partial_unique_index(
            "uq_grants_one_guest_grant_per_reservation", "reservation_id", where="kind = 'guest'"
        ),
        # Grants not over by an instant (codes in use, live grants): history is skipped.
        Index("ix_grants_ending", "ends_at", "starts_at"),
    )

    id: Mapped[str] = _id("grt")
    organisation_id: Mapped[str] = _organisation()
    kind: Mapped[str] = mapped_column(String(16))
    reservation_id: Mapped[str | None] = mapped_column(ForeignKey("reservations.id"))
    property_id: Mapped[str | None] = mapped_column(ForeignKey("properties.id"), index=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    code_token: Mapped[str] = mapped_column(Text())
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    codes_set_version: Mapped[int | None] = mapped_column(Integer)
    # The staff schedule this grant is one window of (None for a grant made on its own).
    schedule_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The stay whose check-out opens this turnover code (a staff grant), if it is one.
    turnover_after: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    offline_key_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("offline_key_groups.id", ondelete="SET NULL"), index=True
    )

    lock_codes: Mapped[list["LockCode"]] = relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="LockCode.lock_id"
    )
    reservation: Mapped["Reservation | None"] = relationship()


class LockCode(Base):
    """One grant on one lock: the unit the lock-sync reconciler works on.

    ``desired`` is what the planner wanted at the last pass (``present`` or ``absent``, with
    ``wait_reason`` when a live grant is kept off), ``actual`` what the lock reported.
    ``confirmed_version`` is the grant version last seen exactly right on the lock, and
    ``attempted_version`` the one the failing attempts were for. ``last_error`` never holds a
    code. On a slot lock, ``slot`` is held by one grant at a time (a unique index over held
    slots). On a keypad that never reaches the network, ``offline_code_token`` holds the key
    group's offline code for the grant (encrypted) and ``offline_*_at`` the window it opens.
    A vendor's offline code (TTLock, Seam) sits in the same columns, with ``offline_vendor``
    (None for doorcode's own), the rules the guest must follow and the vendor's reference.
    """

    __tablename__ = "lock_codes"
    __table_args__ = (
        # One holder per slot of a lock, whichever process reserves it (migration 0018).
        _partial_unique_index(
            "uq_lock_codes_held_slot",
            "lock_id",
            "slot",
            where="slot IS NOT NULL AND slot_released_at IS NULL",
        ),
        # A lock's codes with their grants' ids in the index itself: the codes in use on a
        # lock are read from it alone, never from each of its past codes' rows (migration 0022).
        Index("ix_lock_codes_lock_grant", "lock_id", "grant_id"),
    )

    grant_id: Mapped[str] = mapped_column(
        ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True
    )
    lock_id: Mapped[str] = mapped_column(
        ForeignKey("locks.id", ondelete="CASCADE"), primary_key=True
    )
    desired: Mapped[str] = mapped_column(String(16), default="absent", server_default="absent")
    wait_reason: Mapped[str | None] = mapped_column(String(32))
    actual: Mapped[str] = mapped_column(String(16), default="absent", server_default="absent")
    provider_code_id: Mapped[str | None] = mapped_column(String(200))
    # On a slot-addressed lock, the slot this grant took: recorded before the code is written
    # and kept for the grant's life (``domain/slots.py``).
    slot: Mapped[int | None] = mapped_column(Integer)
    # When the grant stopped holding ``slot`` (over, its code off the lock); NULL while held.
    # The slot stays recorded: a late keypad event still names whoever held it then.
    slot_released_at: Mapped[datetime | None]
    confirmed_version: Mapped[int | None] = mapped_column(Integer)
    # The grant's code token (encrypted, as in ``grants.code_token``) whose PIN doorcode last
    # wrote to or read back from this lock; NULL when unknown. A lock that masks PINs lists a
    # code without its digits, so only this record tells the current PIN from an older one.
    written_code_token: Mapped[str | None] = mapped_column(Text())
    # The version the back-end accepted but has not confirmed on the device yet.
    accepted_version: Mapped[int | None] = mapped_column(Integer)
    attempted_version: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    offline_code_token: Mapped[str | None] = mapped_column(Text())
    offline_starts_at: Mapped[datetime | None]
    offline_ends_at: Mapped[datetime | None]
    offline_vendor: Mapped[str | None] = mapped_column(String(32))
    offline_rules: Mapped[list[str] | None] = mapped_column(JSON)
    offline_code_ref: Mapped[str | None] = mapped_column(String(200))

    grant: Mapped["Grant"] = relationship(back_populates="lock_codes")
    lock: Mapped["Lock"] = relationship()


class PulledBackupCode(Base):
    """A code a back-end's backup pool (Seam) handed out for one grant on one lock.

    Unlike a vendor's offline code, a pulled backup is a real code on the lock that opens
    until the back-end removes it, so doorcode must delete it once the grant no longer holds
    it (revoked, moved off its window, the lock left the grant, the stay over). The lock code
    keeps the code itself; this row remembers that it exists on the lock until the reconciler
    has deleted it (``removed_at``), even after the lock code forgot it or is gone, and even
    after the grant row itself is deleted: a cascade would drop the only record of a code that
    opens the door, so ``grant_id`` keeps the id (for the audit trail) without a foreign key,
    and a grant that no longer exists holds nothing (migration 0020).
    """

    __tablename__ = "pulled_backup_codes"
    __table_args__ = (Index("ix_pulled_backup_codes_lock_pending", "lock_id", "removed_at"),)

    id: Mapped[str] = _id("pbc")
    organisation_id: Mapped[str] = _organisation()
    grant_id: Mapped[str] = mapped_column(String(32))
    """The grant's id, deliberately no foreign key: the row outlives a deleted grant row."""
    lock_id: Mapped[str] = mapped_column(ForeignKey("locks.id", ondelete="CASCADE"))
    code_ref: Mapped[str] = mapped_column(String(200))
    """The back-end's id of the backup code (never its digits)."""
    pulled_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class OfflineKeyGroup(Base):
    """Locks that share one offline-code key: one code opens all of them and no other lock.

    The key and the programming code exist here only as Fernet tokens. ``key_exported_at``
    records the one time the key left the service to be loaded into the physical locks.
    """

    __tablename__ = "offline_key_groups"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[str] = _id("okg")
    organisation_id: Mapped[str] = _organisation()
    name: Mapped[str] = mapped_column(String(200))
    group_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    key_token: Mapped[str] = mapped_column(Text())
    programming_code_token: Mapped[str] = mapped_column(Text())
    epoch: Mapped[datetime]
    digits: Mapped[int] = mapped_column(Integer)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    key_exported_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]

    locks: Mapped[list["Lock"]] = relationship(order_by="Lock.name")


class OfflineBlock(Base):
    """A code on a key group's block list, and the keypad sequence that blocks it at the lock.

    Offline locks cannot be reached, so blocking is something a person types; the row stays
    until the lock has been programmed (``entered_at``). The code is kept encrypted because new
    codes must avoid it and the sequence must be shown again if the first attempt failed.
    """

    __tablename__ = "offline_blocks"

    id: Mapped[str] = _id("blk")
    organisation_id: Mapped[str] = _organisation()
    key_group_id: Mapped[str] = mapped_column(
        ForeignKey("offline_key_groups.id", ondelete="CASCADE"), index=True
    )
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("grants.id", ondelete="SET NULL"))
    code_token: Mapped[str] = mapped_column(Text())
    key_version: Mapped[int] = mapped_column(Integer)
    window_starts_at: Mapped[datetime]
    window_ends_at: Mapped[datetime]
    blocked_at: Mapped[datetime]
    entered_at: Mapped[datetime | None]


class Event(Base):
    """An append-only audit record: what changed, who or what did it, and why.

    ``details`` holds before/after values; codes never appear in it, in clear or otherwise.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = _organisation()
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Alert(Base):
    """Something an operator must look at, open until the reconciler sees it resolved.

    At most one open alert exists per (kind, subject); it is refreshed while the problem lasts
    and closed (``cleared_at``) when it is gone, so the table is also the alerts' history.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        _partial_unique_index(
            "uq_alerts_one_open_per_subject",
            "kind",
            "subject_type",
            "subject_id",
            where="cleared_at IS NULL",
        ),
    )

    id: Mapped[str] = _id("alr")
    organisation_id: Mapped[str] = _organisation()
    kind: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(1000))
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None] = mapped_column(index=True)


# --- Reservation sources: PMS webhooks, iCal feeds, and pushing codes back -----------------


class Source(Base):
    """A system that pushes reservations to ``/webhooks/reservations/{id}``.

    The id is the URL's path segment, unique across organisations, so two organisations may
    both call their PMS "hostaway". The name labels the reservations it sends
    (``Reservation.source``). Secrets are Fernet tokens; the push URL is one too, because
    URLs of webhook receivers often carry a token of their own.
    """

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[str] = _id("src")
    organisation_id: Mapped[str] = _organisation()
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    secret_token: Mapped[str] = mapped_column(Text())
    push_url_token: Mapped[str | None] = mapped_column(Text())
    push_url_hint: Mapped[str | None] = mapped_column(String(300))
    push_secret_token: Mapped[str | None] = mapped_column(Text())
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One request that reached a source's webhook URL, kept with what became of it.

    ``body`` is stored with secret fields redacted; ``replay_key`` (delivery id and signed
    timestamp) is set only once the request proved its origin, so a forged request can never
    claim a key a genuine one will need.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source_id", "replay_key"),)

    id: Mapped[str] = _id("dlv")
    organisation_id: Mapped[str] = _organisation()
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    delivery_key: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None]
    replay_key: Mapped[str | None] = mapped_column(String(250))
    authenticated: Mapped[bool] = mapped_column(default=False)
    body: Mapped[bytes]
    body_size: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(String(500), default="")
    external_id: Mapped[str | None] = mapped_column(String(200))
    source_version: Mapped[int | None] = mapped_column(BigInteger)
    reservation_id: Mapped[str | None] = mapped_column(String(32))
    replay_of: Mapped[str | None] = mapped_column(String(32))


class Feed(Base):
    """A calendar (iCal) URL polled for a property's bookings; the URL itself is a secret."""

    __tablename__ = "feeds"

    id: Mapped[str] = _id("fed")
    organisation_id: Mapped[str] = _organisation()
    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    url_token: Mapped[str] = mapped_column(Text())
    url_hint: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(16))
    include_blocked: Mapped[bool] = mapped_column(default=False)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_read_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime] = mapped_column(index=True)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_message: Mapped[str] = mapped_column(String(500), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    property: Mapped["Property"] = relationship()


class FeedEntry(Base):
    """What a feed last said about one booking, and how many good fetches have missed it."""

    __tablename__ = "feed_entries"

    feed_id: Mapped[str] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200))
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    ends_at: Mapped[datetime]
    missing: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[bool] = mapped_column(default=False)
    reservation_url: Mapped[str | None] = mapped_column(String(500))


class PushDelivery(Base):
    """One grant change to POST back to a source's push URL; never holds the code itself."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("source_id", "event_id"),
        Index("ix_push_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = _id("psh")
    organisation_id: Mapped[str] = _organisation()
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(Integer)
    event_kind: Mapped[str] = mapped_column(String(64))
    grant_id: Mapped[str] = mapped_column(String(32), index=True)
    reservation_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class OutboxCursor(Base):
    """How far a processor of the audit log has read (events below it are all handled)."""

    __tablename__ = "outbox_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)


class MessageTemplate(Base):
    """A host's own wording for one purpose, channel and language, for a property or for all.

    ``property_id`` is None for the account-wide template. ``text`` is the plain-text body
    (email text part, SMS) or, for WhatsApp, one template parameter per line;
    ``provider_template`` is the name of the WhatsApp template approved by Meta.
    """

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("organisation_id", "property_id", "purpose", "channel", "locale"),
        _partial_unique_index(
            "uq_message_templates_one_account_wide",
            "organisation_id",
            "purpose",
            "channel",
            "locale",
            where="property_id IS NULL",
        ),
    )

    id: Mapped[str] = _id("tpl")
    organisation_id: Mapped[str] = _organisation()
    property_id: Mapped[str | None] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text(), default="")
    html: Mapped[str] = mapped_column(Text(), default="")
    text: Mapped[str] = mapped_column(Text(), default="")
    provider_template: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MessageRule(Base):
    """A property's scheduling rules for guest messages; no row means the defaults."""

    __tablename__ = "message_rules"

    property_id: Mapped[str] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[str] = _organisation()
    days_before: Mapped[int] = mapped_column(Integer)
    send_at: Mapped[time] = mapped_column(Time())
    send_if_late: Mapped[bool] = mapped_column(Boolean)
    on_change: Mapped[bool] = mapped_column(Boolean)
    on_backup_code: Mapped[bool] = mapped_column(Boolean)
    alert_hours: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class Message(Base):
    """One thing to tell a guest about one version of one grant; never two for the same key.

    It waits (``scheduled``) until it is due and the grant's code is on every lock, then
    becomes one delivery per channel that can reach the guest (``dispatched``).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("grant_id", "purpose", "grant_version"),
        Index("ix_messages_status_due_at", "status", "due_at"),
    )

    id: Mapped[str] = _id("msg")
    organisation_id: Mapped[str] = _organisation()
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"))
    reservation_id: Mapped[str | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    grant_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    due_at: Mapped[datetime]
    alert_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    deliveries: Mapped[list["MessageDelivery"]] = relationship(
        back_populates="message", order_by="MessageDelivery.channel"
    )


class MessageDelivery(Base):
    """A message on one channel to one address; its key is stored before anything is sent."""

    __tablename__ = "message_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "channel"),
        Index("ix_message_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = _id("dlv")
    organisation_id: Mapped[str] = _organisation()
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    message: Mapped["Message"] = relationship(back_populates="deliveries")
    attempt_log: Mapped[list["MessageAttempt"]] = relationship(order_by="MessageAttempt.number")


class MessageAttempt(Base):
    """One try at sending a delivery: when, how it ended, and why (never with a secret)."""

    __tablename__ = "message_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("message_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


# --- People at the dashboard, and the guidebook's messages to the host ----------------------


class User(Base):
    """A person who signs in to the dashboard; only an Argon2id hash of the password is kept.

    Usernames are unique across organisations because the sign-in form asks for nothing else.
    """

    __tablename__ = "users"

    id: Mapped[str] = _id("usr")
    organisation_id: Mapped[str] = _organisation()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class WebSession(Base):
    """A signed-in browser; the cookie holds a secret whose SHA-256 is the key here.

    A stolen copy of this table therefore opens no session. ``csrf_token`` is the session's
    synchronizer token, which every form posts back.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    client_address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped["User"] = relationship()


class FailedAttempt(Base):
    """One failed sign-in or guidebook lookup, counted by rate limits over a sliding window.

    ``bucket`` says which limit it counts toward (``sign_in``, ``guidebook``) and ``subject``
    what is limited (``account:<username>``, ``address:<ip>``); neither holds a secret.
    """

    __tablename__ = "failed_attempts"
    __table_args__ = (Index("ix_failed_attempts_lookup", "bucket", "subject", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    attempted_at: Mapped[datetime]


class HostNotice(Base):
    """Something a guest told us that the host must hear (arrived, left, the code fails).

    One row per channel and address; it is sent by the host-notice pass, retried on transient
    failures and never holds a code.
    """

    __tablename__ = "host_notices"
    __table_args__ = (Index("ix_host_notices_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[str] = _id("hnt")
    organisation_id: Mapped[str] = _organisation()
    reservation_id: Mapped[str | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


# --- What the locks report: access events and health ----------------------------------------


class AccessEventRow(Base):
    """One opening or refused attempt at a lock, as its back-end reported it; append-only.

    Unique per (lock, the back-end's event id), so a replayed webhook or a poll that overlaps
    a push is one row. ``code_ref`` is the back-end's reference to the code (id, slot, tag),
    never a PIN; ``grant_id`` is set when that reference is one of doorcode's codes.
    """

    __tablename__ = "access_events"
    __table_args__ = (
        UniqueConstraint("lock_id", "event_id"),
        Index("ix_access_events_lock_occurred", "lock_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organisation_id: Mapped[str] = _organisation()
    lock_id: Mapped[str] = mapped_column(ForeignKey("locks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    code_ref: Mapped[str | None] = mapped_column(String(200))
    grant_id: Mapped[str | None] = mapped_column(
        ForeignKey("grants.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(16))

    lock: Mapped["Lock"] = relationship()
    grant: Mapped["Grant | None"] = relationship()


class AccessCursor(Base):
    """Where polling a lock's access events stands: the back-end's cursor, and when it last
    moved (a quiet lock's poll writes nothing)."""

    __tablename__ = "access_cursors"

    lock_id: Mapped[str] = mapped_column(
        ForeignKey("locks.id", ondelete="CASCADE"), primary_key=True
    )
    cursor: Mapped[str | None] = mapped_column(String(500))
    polled_at: Mapped[datetime]


class LockHealthSample(Base):
    """A lock's health as its back-end reported it at ``observed_at`` (the battery's history).

    A sample is kept when something changed, or once an hour otherwise.
    """

    __tablename__ = "lock_health_samples"
    __table_args__ = (Index("ix_lock_health_samples_lock_observed", "lock_id", "observed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    organisation_id: Mapped[str] = _organisation()
    lock_id: Mapped[str] = mapped_column(ForeignKey("locks.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(index=True)
    online: Mapped[bool | None]
    battery_percent: Mapped[int | None] = mapped_column(Integer)
    last_contact_at: Mapped[datetime | None]


schedule_properties = Table(
    "schedule_properties",
    Base.metadata,
    Column("schedule_id", ForeignKey("staff_schedules.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "property_id", ForeignKey("properties.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class StaffSchedule(Base):
    """A recurring staff code: "the cleaner, every Tuesday 10:00-14:00 at Flat 1A and 2B".

    The recurrence is kept as the operator said it (weekly or daily, weekdays, local times,
    first and last day, days off); each window becomes one staff grant per property
    (``Grant.schedule_id``), computed on that property's clock.
    """

    __tablename__ = "staff_schedules"

    id: Mapped[str] = _id("sch")
    organisation_id: Mapped[str] = _organisation()
    holder: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    starts_time: Mapped[time] = mapped_column(Time())
    ends_time: Mapped[time] = mapped_column(Time())
    first_day: Mapped[date] = mapped_column(Date())
    last_day: Mapped[date] = mapped_column(Date())
    except_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    properties: Mapped[list["Property"]] = relationship(
        secondary=schedule_properties, order_by="Property.name"
    )
