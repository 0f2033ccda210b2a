"""provider accounts: credentials per organisation, locks per account, health, accepted codes

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 06:40:00.000000

Credentials move from the deployment to the organisation: ``provider_accounts`` holds each
organisation's accounts (credentials as a Fernet token), and a lock belongs to one account,
unique on (account, external id). Every organisation that has virtual locks gets a
"Virtual locks" account holding them (the virtual cloud needs no credentials, so the empty
JSON object is stored encrypted like any other). Locks of other kinds keep no account: they
wait, "not configured", until an operator connects one and imports them.

Also: the lock's health as its back-end last reported it, and the grant version a back-end
accepted on a lock code but has not confirmed yet.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

from doorcode.store.code_cipher import CodeCipher
from doorcode.store.column_types import UtcDateTime
from doorcode.store.ids import new_id

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("credentials_token", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("refused_at", UtcDateTime(), nullable=True),
        sa.Column("refused_reason", sa.String(length=500), nullable=True),
        sa.Column("imported_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_provider_accounts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_accounts")),
        sa.UniqueConstraint(
            "organisation_id", "label", name=op.f("uq_provider_accounts_organisation_id_label")
        ),
    )
    op.create_index(
        op.f("ix_provider_accounts_organisation_id"), "provider_accounts", ["organisation_id"]
    )
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("health_online", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("health_battery", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("health_contact_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("health_checked_at", UtcDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_locks_account_id_provider_accounts"),
            "provider_accounts",
            ["account_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_locks_account_id"), ["account_id"])
        batch_op.drop_constraint("uq_locks_provider_external_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_locks_account_id_external_id"), ["account_id", "external_id"]
        )
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_version", sa.Integer(), nullable=True))
    _virtual_accounts()


def _virtual_accounts() -> None:
    """One "Virtual locks" account per organisation with virtual locks, holding them."""
    connection = op.get_bind()
    cipher: CodeCipher = context.config.attributes["cipher"]
    organisations = connection.execute(
        sa.text("SELECT DISTINCT organisation_id FROM locks WHERE provider = 'virtual'")
    ).scalars()
    now = datetime.now(UTC)
    for organisation_id in list(organisations):
        account_id = new_id("pac")
        connection.execute(
            sa.text(
                "INSERT INTO provider_accounts (id, organisation_id, kind, label,"
                " credentials_token, options, created_at, updated_at)"
                " VALUES (:id, :org, 'virtual', 'Virtual locks', :token, '{}', :now, :now)"
            ),
            {"id": account_id, "org": organisation_id, "token": cipher.encrypt("{}"), "now": now},
        )
        connection.execute(
            sa.text(
                "UPDATE locks SET account_id = :id"
                " WHERE organisation_id = :org AND provider = 'virtual'"
            ),
            {"id": account_id, "org": organisation_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_column("accepted_version")
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_locks_account_id_external_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_locks_provider_external_id"), ["provider", "external_id"]
        )
        batch_op.drop_index(batch_op.f("ix_locks_account_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_locks_account_id_provider_accounts"), type_="foreignkey"
        )
        for column in (
            "health_checked_at",
            "health_contact_at",
            "health_battery",
            "health_online",
            "account_id",
        ):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_provider_accounts_organisation_id"), table_name="provider_accounts")
    op.drop_table("provider_accounts")
