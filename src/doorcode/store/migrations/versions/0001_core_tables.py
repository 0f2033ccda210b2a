"""core tables: organisations, properties, locks, reservations, grants, events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 04:14:19.050672
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorcode.store.column_types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisations_slug")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_used_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_keys_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_keys_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column(
            "occurred_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_events_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index("ix_events_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "locks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "sync_requested_at",
            doorcode.store.column_types.UtcDateTime(timezone=True),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_locks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locks")),
        sa.UniqueConstraint(
            "organisation_id",
            "provider",
            "external_id",
            name=op.f("uq_locks_organisation_id_provider_external_id"),
        ),
    )
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_locks_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "properties",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("check_in_time", sa.Time(), nullable=False),
        sa.Column("check_out_time", sa.Time(), nullable=False),
        sa.Column("code_length", sa.Integer(), nullable=False),
        sa.Column("code_alphabet", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_properties_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_properties")),
        sa.UniqueConstraint(
            "organisation_id", "external_id", name=op.f("uq_properties_organisation_id_external_id")
        ),
    )
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_properties_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "property_locks",
        sa.Column("property_id", sa.String(length=32), nullable=False),
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["lock_id"],
            ["locks.id"],
            name=op.f("fk_property_locks_lock_id_locks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_property_locks_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("property_id", "lock_id", name=op.f("pk_property_locks")),
    )
    with op.batch_alter_table("property_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_property_locks_lock_id"), ["lock_id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("property_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column("check_in_at", sa.Time(), nullable=True),
        sa.Column("check_out_at", sa.Time(), nullable=True),
        sa.Column(
            "starts_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "ends_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("guest_name", sa.String(length=200), nullable=False),
        sa.Column("guest_email", sa.String(length=320), nullable=True),
        sa.Column("guest_phone", sa.String(length=40), nullable=True),
        sa.Column("guest_locale", sa.String(length=16), nullable=True),
        sa.Column("guest_count", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_reservations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_reservations_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint(
            "organisation_id",
            "source",
            "external_id",
            name=op.f("uq_reservations_organisation_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reservations_property_id"), ["property_id"], unique=False
        )

    op.create_table(
        "grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reservation_id", sa.String(length=32), nullable=True),
        sa.Column("property_id", sa.String(length=32), nullable=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("code_token", sa.Text(), nullable=False),
        sa.Column(
            "starts_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "ends_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "revoked_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_grants_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_grants_property_id_properties")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_grants_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grants_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_grants_property_id"), ["property_id"], unique=False)
        batch_op.create_index("ix_grants_window", ["starts_at", "ends_at"], unique=False)
        batch_op.create_index(
            "uq_grants_one_guest_grant_per_reservation",
            ["reservation_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'guest'"),
            postgresql_where=sa.text("kind = 'guest'"),
        )

    op.create_table(
        "lock_codes",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_lock_codes_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lock_id"], ["locks.id"], name=op.f("fk_lock_codes_lock_id_locks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("grant_id", "lock_id", name=op.f("pk_lock_codes")),
    )
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lock_codes_lock_id"), ["lock_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lock_codes_lock_id"))

    op.drop_table("lock_codes")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_grants_one_guest_grant_per_reservation",
            sqlite_where=sa.text("kind = 'guest'"),
            postgresql_where=sa.text("kind = 'guest'"),
        )
        batch_op.drop_index("ix_grants_window")
        batch_op.drop_index(batch_op.f("ix_grants_property_id"))
        batch_op.drop_index(batch_op.f("ix_grants_organisation_id"))

    op.drop_table("grants")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_property_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_organisation_id"))

    op.drop_table("reservations")
    with op.batch_alter_table("property_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_locks_lock_id"))

    op.drop_table("property_locks")
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_properties_organisation_id"))

    op.drop_table("properties")
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locks_organisation_id"))

    op.drop_table("locks")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_subject")
        batch_op.drop_index(batch_op.f("ix_events_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_kind"))

    op.drop_table("events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_organisation_id"))

    op.drop_table("api_keys")
    op.drop_table("organisations")
