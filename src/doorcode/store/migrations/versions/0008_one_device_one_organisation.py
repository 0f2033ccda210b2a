"""one device, one organisation: a provider's device id is unique across organisations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_locks_organisation_id_provider_external_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_locks_provider_external_id"), ["provider", "external_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_locks_provider_external_id"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_locks_organisation_id_provider_external_id",
            ["organisation_id", "provider", "external_id"],
        )
