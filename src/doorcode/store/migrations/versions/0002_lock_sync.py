"""lock sync: sync state of locks and lock codes, lead times, alerts

The reconciler keeps per lock code what it wanted, what the lock reported, the grant version
confirmed there and its retry state; per lock, which grant changes it has seen and when it is
due again; per property, how long before a window its codes go onto the locks. Alerts are new.
Existing lock codes start as absent on both sides: nothing programmed locks before this.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:38:19.085801
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorcode.store.column_types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column(
            "raised_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "cleared_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alerts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_cleared_at"), ["cleared_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alerts_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_alerts_one_open_per_subject",
            ["kind", "subject_type", "subject_id"],
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codes_set_version", sa.Integer(), nullable=True))

    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("desired", sa.String(length=16), server_default="absent", nullable=False)
        )
        batch_op.add_column(sa.Column("wait_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("actual", sa.String(length=16), server_default="absent", nullable=False)
        )
        batch_op.add_column(sa.Column("provider_code_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("confirmed_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attempted_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column(
                "next_attempt_at",
                doorcode.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sync_requests", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("synced_requests", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "synced_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "next_sync_at",
                doorcode.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("sync_error", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("sync_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "sync_retry_at",
                doorcode.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("unmanaged_codes", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_locks_next_sync_at"), ["next_sync_at"], unique=False)

    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("native_lead_minutes", sa.Integer(), server_default="4320", nullable=False)
        )
        batch_op.add_column(
            sa.Column("unscheduled_lead_minutes", sa.Integer(), server_default="60", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_column("unscheduled_lead_minutes")
        batch_op.drop_column("native_lead_minutes")

    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locks_next_sync_at"))
        batch_op.drop_column("unmanaged_codes")
        batch_op.drop_column("sync_retry_at")
        batch_op.drop_column("sync_attempts")
        batch_op.drop_column("sync_error")
        batch_op.drop_column("next_sync_at")
        batch_op.drop_column("synced_at")
        batch_op.drop_column("synced_requests")
        batch_op.drop_column("sync_requests")

    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("attempted_version")
        batch_op.drop_column("confirmed_version")
        batch_op.drop_column("provider_code_id")
        batch_op.drop_column("actual")
        batch_op.drop_column("wait_reason")
        batch_op.drop_column("desired")

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("codes_set_version")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alerts_one_open_per_subject",
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_alerts_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_cleared_at"))

    op.drop_table("alerts")
