"""Slots: the range of user-code slots doorcode owns on a lock, and each grant's slot

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:10:00.000000

Z-Wave and Zigbee locks address codes by numbered slot. ``locks.slot_first``/``slot_last`` hold
the range the owner left to doorcode (NULL: the default, all but the first few);
``lock_codes.slot`` is the slot a grant took on that lock, written before the code is, and kept
for the grant's life so that no reshuffle ever moves an active guest's code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.add_column(sa.Column("slot_first", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("slot_last", sa.Integer(), nullable=True))
    with op.batch_alter_table("lock_codes") as batch:
        batch.add_column(sa.Column("slot", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lock_codes") as batch:
        batch.drop_column("slot")
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("slot_last")
        batch.drop_column("slot_first")
