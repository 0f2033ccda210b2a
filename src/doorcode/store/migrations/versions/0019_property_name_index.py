"""property name index: a delivery naming its property by name finds it by index

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:45:00.000000

A booking may name its property by id, external id or name. The first two had an index;
the name did not, so every delivery read all of the organisation's properties to find one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_properties_organisation_id_name", "properties", ["organisation_id", "name"])


def downgrade() -> None:
    op.drop_index("ix_properties_organisation_id_name", table_name="properties")
