"""offline key groups and block lists

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 04:31:42.220495
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorcode.store.column_types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = doorcode.store.column_types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offline_key_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group_uuid", sa.String(length=36), nullable=False),
        sa.Column("key_token", sa.Text(), nullable=False),
        sa.Column("programming_code_token", sa.Text(), nullable=False),
        sa.Column("epoch", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column(
            "key_exported_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "rotated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_offline_key_groups_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_key_groups")),
        sa.UniqueConstraint("group_uuid", name=op.f("uq_offline_key_groups_group_uuid")),
        sa.UniqueConstraint(
            "organisation_id", "name", name=op.f("uq_offline_key_groups_organisation_id_name")
        ),
    )
    with op.batch_alter_table("offline_key_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offline_key_groups_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "offline_blocks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("key_group_id", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("code_token", sa.Text(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column(
            "window_starts_at",
            doorcode.store.column_types.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "window_ends_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "blocked_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "entered_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_offline_blocks_grant_id_grants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["key_group_id"],
            ["offline_key_groups.id"],
            name=op.f("fk_offline_blocks_key_group_id_offline_key_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_offline_blocks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_blocks")),
    )
    with op.batch_alter_table("offline_blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offline_blocks_key_group_id"), ["key_group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_offline_blocks_organisation_id"), ["organisation_id"], unique=False
        )

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_key_group_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_grants_offline_key_group_id"), ["offline_key_group_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_grants_offline_key_group_id_offline_key_groups"),
            "offline_key_groups",
            ["offline_key_group_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_code_token", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("offline_starts_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("offline_ends_at", UTC_DATETIME, nullable=True))

    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_key_group_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_locks_offline_key_group_id"), ["offline_key_group_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_locks_offline_key_group_id_offline_key_groups"),
            "offline_key_groups",
            ["offline_key_group_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_column("offline_ends_at")
        batch_op.drop_column("offline_starts_at")
        batch_op.drop_column("offline_code_token")

    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_locks_offline_key_group_id_offline_key_groups"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_locks_offline_key_group_id"))
        batch_op.drop_column("offline_key_group_id")

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_grants_offline_key_group_id_offline_key_groups"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_grants_offline_key_group_id"))
        batch_op.drop_column("offline_key_group_id")

    with op.batch_alter_table("offline_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_blocks_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_offline_blocks_key_group_id"))

    op.drop_table("offline_blocks")
    with op.batch_alter_table("offline_key_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_key_groups_organisation_id"))

    op.drop_table("offline_key_groups")
