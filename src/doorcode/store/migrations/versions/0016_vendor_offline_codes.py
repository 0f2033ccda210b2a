"""vendor offline codes on lock codes: which vendor computed the code, its rules, its reference

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:20:00.000000

A lock code's offline code was always doorcode's own (FF1, from a key group). A vendor's cloud
(TTLock ``keyboardPwd/get``, Seam's offline access codes) can compute one too, for a lock it
cannot program. It is kept in the same encrypted column, with the vendor that computed it
(None: doorcode's own), the rules the guest must follow (JSON list of sentences), and the
vendor's reference to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_vendor", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("offline_rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("offline_code_ref", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_column("offline_code_ref")
        batch_op.drop_column("offline_rules")
        batch_op.drop_column("offline_vendor")
