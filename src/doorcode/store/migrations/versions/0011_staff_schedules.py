"""staff schedules and turnover codes: recurring staff codes kept as one schedule, and a
cleaner's code from each check-out to the next check-in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 06:40:00.000000

``staff_schedules`` keeps the recurrence as the operator said it (weekly or daily, local
times, first and last day, days off), ``schedule_properties`` the properties it covers, and
``grants.schedule_id`` ties each window's grant to its schedule, so the whole series is
edited or revoked as one. ``properties.turnover_holder`` and ``turnover_max_hours`` turn on a
property's turnover codes, and ``grants.turnover_after`` names the stay each one follows.
``properties.guide`` holds the guidebook's pages (Markdown by topic) and ``locks.arrival_note``
and ``departure_note`` what a guest needs at each door.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from doorcode.store.column_types import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_schedules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.String(32),
            sa.ForeignKey(
                "organisations.id",
                ondelete="CASCADE",
                name="fk_staff_schedules_organisation_id_organisations",
            ),
            nullable=False,
        ),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("starts_time", sa.Time(), nullable=False),
        sa.Column("ends_time", sa.Time(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("except_days", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_schedules"),
    )
    op.create_index("ix_staff_schedules_organisation_id", "staff_schedules", ["organisation_id"])
    op.create_table(
        "schedule_properties",
        sa.Column(
            "schedule_id",
            sa.String(32),
            sa.ForeignKey(
                "staff_schedules.id",
                ondelete="CASCADE",
                name="fk_schedule_properties_schedule_id_staff_schedules",
            ),
            nullable=False,
        ),
        sa.Column(
            "property_id",
            sa.String(32),
            sa.ForeignKey(
                "properties.id",
                ondelete="CASCADE",
                name="fk_schedule_properties_property_id_properties",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("schedule_id", "property_id", name="pk_schedule_properties"),
    )
    op.create_index("ix_schedule_properties_property_id", "schedule_properties", ["property_id"])
    op.add_column("grants", sa.Column("schedule_id", sa.String(32), nullable=True))
    op.create_index("ix_grants_schedule_id", "grants", ["schedule_id"])
    op.add_column("grants", sa.Column("turnover_after", sa.String(32), nullable=True))
    op.create_index("ix_grants_turnover_after", "grants", ["turnover_after"])
    op.add_column(
        "properties",
        sa.Column("turnover_holder", sa.String(200), nullable=False, server_default=""),
    )
    op.add_column(
        "properties",
        sa.Column("turnover_max_hours", sa.Integer(), nullable=False, server_default="24"),
    )
    op.add_column("properties", sa.Column("guide", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("locks", sa.Column("arrival_note", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "locks", sa.Column("departure_note", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("departure_note")
        batch.drop_column("arrival_note")
    with op.batch_alter_table("properties") as batch:
        batch.drop_column("guide")
        batch.drop_column("turnover_max_hours")
        batch.drop_column("turnover_holder")
    op.drop_index("ix_grants_turnover_after", table_name="grants")
    op.drop_index("ix_grants_schedule_id", table_name="grants")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("turnover_after")
        batch.drop_column("schedule_id")
    op.drop_index("ix_schedule_properties_property_id", table_name="schedule_properties")
    op.drop_table("schedule_properties")
    op.drop_index("ix_staff_schedules_organisation_id", table_name="staff_schedules")
    op.drop_table("staff_schedules")
