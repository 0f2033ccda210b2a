"""pulled backup codes: backup-pool codes on locks, kept until the reconciler deletes them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:10:00.000000

A code Seam's backup pool hands out for a late code is a real code on the lock: it opens
until it is deleted. Each one pulled is recorded here, with when the reconciler deleted it
once its grant no longer held it (revoked, moved, the lock left the grant, the stay over).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from doorcode.store.column_types import UtcDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pulled_backup_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("lock_id", sa.String(length=32), nullable=False),
        sa.Column("code_ref", sa.String(length=200), nullable=False),
        sa.Column("pulled_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_pulled_backup_codes_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lock_id"],
            ["locks.id"],
            name=op.f("fk_pulled_backup_codes_lock_id_locks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_pulled_backup_codes_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulled_backup_codes")),
    )
    op.create_index(
        op.f("ix_pulled_backup_codes_organisation_id"),
        "pulled_backup_codes",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "ix_pulled_backup_codes_lock_pending",
        "pulled_backup_codes",
        ["lock_id", "removed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_pulled_backup_codes_lock_pending", table_name="pulled_backup_codes")
    op.drop_index(op.f("ix_pulled_backup_codes_organisation_id"), table_name="pulled_backup_codes")
    op.drop_table("pulled_backup_codes")
