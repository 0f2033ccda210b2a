"""guest messages: templates, rules, messages, deliveries; host contact; guidebook tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 04:45:17.861951
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import doorcode.store.column_types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_rules",
        sa.Column("property_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.Time(), nullable=False),
        sa.Column("send_if_late", sa.Boolean(), nullable=False),
        sa.Column("on_change", sa.Boolean(), nullable=False),
        sa.Column("on_backup_code", sa.Boolean(), nullable=False),
        sa.Column("alert_hours", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_rules_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_message_rules_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("property_id", name=op.f("pk_message_rules")),
    )
    with op.batch_alter_table("message_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_rules_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "message_templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("property_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("provider_template", sa.String(length=512), nullable=False),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_templates_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_message_templates_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "organisation_id",
            "property_id",
            "purpose",
            "channel",
            "locale",
            name=op.f("uq_message_templates_organisation_id_property_id_purpose_channel_locale"),
        ),
    )
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_templates_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_templates_property_id"), ["property_id"], unique=False
        )
        batch_op.create_index(
            "uq_message_templates_one_account_wide",
            ["organisation_id", "purpose", "channel", "locale"],
            unique=True,
            sqlite_where=sa.text("property_id IS NULL"),
            postgresql_where=sa.text("property_id IS NULL"),
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("reservation_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("grant_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("due_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "alert_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "alerted_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_messages_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_messages_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_messages_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "grant_id",
            "purpose",
            "grant_version",
            name=op.f("uq_messages_grant_id_purpose_grant_version"),
        ),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messages_reservation_id"), ["reservation_id"], unique=False
        )
        batch_op.create_index("ix_messages_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "message_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            doorcode.store.column_types.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "claimed_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_deliveries_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_deliveries_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_message_deliveries_idempotency_key")),
        sa.UniqueConstraint(
            "message_id", "channel", name=op.f("uq_message_deliveries_message_id_channel")
        ),
    )
    with op.batch_alter_table("message_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_deliveries_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_message_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "message_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column(
            "started_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", doorcode.store.column_types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["message_deliveries.id"],
            name=op.f("fk_message_attempts_delivery_id_message_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attempts")),
    )
    with op.batch_alter_table("message_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("host_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("host_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("host_phone", sa.String(length=40), nullable=True))

    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=500), server_default="", nullable=False)
        )

    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guide_token", sa.String(length=64), nullable=True))
    _give_every_reservation_a_guide_token()
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.alter_column("guide_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_reservations_guide_token"), ["guide_token"]
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_reservations_guide_token"), type_="unique")
        batch_op.drop_column("guide_token")

    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_column("address")

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("host_phone")
        batch_op.drop_column("host_email")
        batch_op.drop_column("host_name")

    with op.batch_alter_table("message_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_attempts_delivery_id"))

    op.drop_table("message_attempts")
    with op.batch_alter_table("message_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_message_deliveries_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_message_deliveries_organisation_id"))

    op.drop_table("message_deliveries")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_due_at")
        batch_op.drop_index(batch_op.f("ix_messages_reservation_id"))
        batch_op.drop_index(batch_op.f("ix_messages_organisation_id"))

    op.drop_table("messages")
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_message_templates_one_account_wide",
            sqlite_where=sa.text("property_id IS NULL"),
            postgresql_where=sa.text("property_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_message_templates_property_id"))
        batch_op.drop_index(batch_op.f("ix_message_templates_organisation_id"))

    op.drop_table("message_templates")
    with op.batch_alter_table("message_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_rules_organisation_id"))

    op.drop_table("message_rules")


def _give_every_reservation_a_guide_token() -> None:
    """Reservations made before guidebook links existed get theirs now: 192 random bits each."""
    reservations = sa.table(
        "reservations", sa.column("id", sa.String()), sa.column("guide_token", sa.String())
    )
    connection = op.get_bind()
    for reservation_id in connection.execute(sa.select(reservations.c.id)).scalars().all():
        connection.execute(
            reservations.update()
            .where(reservations.c.id == reservation_id)
            .values(guide_token=secrets.token_urlsafe(24))
        )
