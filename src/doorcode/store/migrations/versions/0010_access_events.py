"""access events and lock health: what the locks report, kept append-only

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:30:00.000000

``access_events`` holds one row per opening or refused attempt, unique per (lock, the
back-end's event id) so a replayed delivery is one row; ``access_cursors`` is where polling
each lock stands; ``lock_health_samples`` is the battery's history. Properties gain the
switch for arrival notices and the local hour of the no-show notice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from doorcode.store.column_types import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("arrival_notices", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("no_show_time", sa.Time(), server_default="23:00:00", nullable=False)
        )
    op.create_table(
        "access_events",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("code_ref", sa.String(length=200), nullable=True),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_access_events_grant_id_grants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lock_id"],
            ["locks.id"],
            name=op.f("fk_access_events_lock_id_locks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_access_events_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
        sa.UniqueConstraint("lock_id", "event_id", name=op.f("uq_access_events_lock_id_event_id")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index("ix_access_events_lock_occurred", ["lock_id", "occurred_at"])
        batch_op.create_index(batch_op.f("ix_access_events_occurred_at"), ["occurred_at"])
        batch_op.create_index(batch_op.f("ix_access_events_grant_id"), ["grant_id"])
        batch_op.create_index(batch_op.f("ix_access_events_organisation_id"), ["organisation_id"])
    op.create_table(
        "access_cursors",
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=500), nullable=True),
        sa.Column("polled_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lock_id"],
            ["locks.id"],
            name=op.f("fk_access_cursors_lock_id_locks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lock_id", name=op.f("pk_access_cursors")),
    )
    op.create_table(
        "lock_health_samples",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.Column("observed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("battery_percent", sa.Integer(), nullable=True),
        sa.Column("last_contact_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lock_id"],
            ["locks.id"],
            name=op.f("fk_lock_health_samples_lock_id_locks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_lock_health_samples_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lock_health_samples")),
    )
    with op.batch_alter_table("lock_health_samples", schema=None) as batch_op:
        batch_op.create_index("ix_lock_health_samples_lock_observed", ["lock_id", "observed_at"])
        batch_op.create_index(batch_op.f("ix_lock_health_samples_observed_at"), ["observed_at"])
        batch_op.create_index(
            batch_op.f("ix_lock_health_samples_organisation_id"), ["organisation_id"]
        )


def downgrade() -> None:
    op.drop_table("lock_health_samples")
    op.drop_table("access_cursors")
    op.drop_table("access_events")
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_column("no_show_time")
        batch_op.drop_column("arrival_notices")
