"""a lock's codes indexed with their grants' ids, so the codes in use skip its history

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:40:00.000000

A new booking asks which codes are in use on its locks during its window
(``codes_in_use``). PostgreSQL may answer from the lock's side, through
``ix_lock_codes_lock_id``: that index holds only the lock id, so every code the lock ever
had was read from its row, one heap page each, to learn its grant's id. With 100,000 stored
bookings (1,000 past codes per lock) that was 1,001 pages and 1.9 ms per booking before the
first ANALYZE, 0.6 ms after it, for a window that overlaps the lock's coming stays.

``ix_lock_codes_lock_grant`` (lock id, grant id) replaces it: the grant ids come from the index
(an index-only scan, ~6 pages for 1,000 codes), 0.3 ms in the same case. Every lookup by
lock id alone is served by its first column, so nothing else needs the index it replaces,
and a booking writes no more index entries than before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_lock_codes_lock_grant", "lock_codes", ["lock_id", "grant_id"])
    op.drop_index("ix_lock_codes_lock_id", table_name="lock_codes")


def downgrade() -> None:
    op.create_index("ix_lock_codes_lock_id", "lock_codes", ["lock_id"])
    op.drop_index("ix_lock_codes_lock_grant", table_name="lock_codes")
