"""written code token: which PIN doorcode last put on each lock

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:00:00.000000

Some locks list their codes without the digits (Z-Wave and zigbee2mqtt models that mask
PINs, Seam's hidden codes). The reconciler took such a code for the grant's current PIN, so
after a PIN change (regenerated, or moved off a clash) the old code stayed on the lock and the
guest was sent digits the door did not know. ``lock_codes.written_code_token`` keeps the
grant's code token (encrypted, never the digits in clear) whose PIN was last written to or read
back from the lock; a masked code counts as right only when it is the grant's current one.

Existing rows start unknown (NULL): each masked code still wanted is written once more at its
lock's next pass, which also repairs any lock that kept an old PIN before this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lock_codes") as batch_op:
        batch_op.add_column(sa.Column("written_code_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lock_codes") as batch_op:
        batch_op.drop_column("written_code_token")
