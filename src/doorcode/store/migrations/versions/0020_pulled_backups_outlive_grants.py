"""pulled backups outlive their grant: no foreign key, so a deleted grant row leaves the record

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:30:00.000000

``pulled_backup_codes.grant_id`` cascaded the deletion of a grant row: the record of a backup
code still on the lock went with it, so no pass would ever delete that code, and it would
open the door for good. The column keeps the grant's id without a foreign key now: the record
stays, its audit events still name the grant, and the reconciler reads a grant that no longer
exists as one that holds nothing, so it deletes the code from the lock.

Downgrade: the foreign key cannot come back over records whose grant is gone. Those already
deleted from their lock are dropped (history only); one still pending stops the downgrade,
since dropping it would leave a code on a lock that nothing deletes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_pulled_backup_codes_grant_id_grants"


def upgrade() -> None:
    with op.batch_alter_table("pulled_backup_codes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(_FK), type_="foreignkey")


def downgrade() -> None:
    op.execute(
        "DELETE FROM pulled_backup_codes"
        " WHERE grant_id NOT IN (SELECT id FROM grants) AND removed_at IS NOT NULL"
    )
    pending = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM pulled_backup_codes WHERE grant_id NOT IN (SELECT id FROM grants)"
        )
    )
    if pending:
        raise RuntimeError(
            f"{pending} backup code(s) whose grant is gone are still on their lock: "
            "run a sync until they are deleted, then downgrade"
        )
    with op.batch_alter_table("pulled_backup_codes", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f(_FK), "grants", ["grant_id"], ["id"], ondelete="CASCADE"
        )
