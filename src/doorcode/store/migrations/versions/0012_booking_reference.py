"""reservations.booking_reference: the channel's or PMS's own number for a booking

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:00:00.000000

A calendar event carries the reference the guest and the channel use (Airbnb's confirmation
code ``HM…``, a PMS's reservation number) in its DESCRIPTION or SUMMARY. It is kept so the
operator can find the booking at the channel; nothing is keyed on it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("booking_reference", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("booking_reference")
