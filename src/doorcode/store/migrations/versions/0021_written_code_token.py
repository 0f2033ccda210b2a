"""written code token: which PIN doorcode last put on each lock

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:00:00.000000

Some locks list their codes without the digits (Z-Wave and zigbee2mqtt models that mask
PINs, Seam's hidden codes). The reconciler took such a code for the grant's current PIN, so
after a PIN change (regenerated, or moved off a clash) the old code stayed on the lock and the
guest was sent digits the door did not know. ``lock_codes.written_code_token`` keeps the
grant's code token (encrypted, never the digits in clear) whose PIN was last written to or read
back from the lock; a masked code counts as right only when it is the grant's current one.

Existing rows: a grant whose code never changed has only ever had one PIN, so a lock code
a pass confirmed holds that one; those are filled in, and nothing is written again. A grant
whose code changed (``GrantCodeChanged``) may be one this defect left with an old PIN on a
masked lock: its rows start unknown (NULL), and each masked code of it still wanted is
written once more at its lock's next pass, which repairs such a lock. Rewriting every masked
code instead would take each current guest's code off the lock for a moment (a cloud may
take minutes to program it again) to repair the few whose PIN changed.
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
    op.execute(
        "UPDATE lock_codes SET written_code_token = ("
        " SELECT grants.code_token FROM grants WHERE grants.id = lock_codes.grant_id)"
        " WHERE confirmed_version IS NOT NULL AND NOT EXISTS ("
        " SELECT 1 FROM events WHERE events.subject_type = 'grant'"
        " AND events.subject_id = lock_codes.grant_id AND events.kind = 'GrantCodeChanged')"
    )


def downgrade() -> None:
    with op.batch_alter_table("lock_codes") as batch_op:
        batch_op.drop_column("written_code_token")
