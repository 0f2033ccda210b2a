"""indexes that keep a booking's cost independent of the bookings stored before it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:20:00.000000

Every new booking asks two questions of the stored data: which codes are in use on its locks
during its window (``codes_in_use``), and which confirmed stays at its property overlap it
(``confirmed_overlapping``). Both were answered through indexes that led with the wrong
column: grants by ``starts_at`` (every grant that started before the new window ends, that
is all of history) and reservations by ``property_id`` alone (every stay the property ever
had). With 100,000 stored bookings that was a scan of 100,000 grants per booking.

Grants are now indexed by ``ends_at`` first, so the question skips everything that is over
(no query asks for grants by their start alone), and reservations by property and
``ends_at``, which also serves "the property's stays not over yet". The indexes they replace
are dropped: each index is one more write per booking.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_grants_ending", "grants", ["ends_at", "starts_at"])
    op.drop_index("ix_grants_window", table_name="grants")
    op.create_index("ix_reservations_property_ending", "reservations", ["property_id", "ends_at"])
    op.drop_index("ix_reservations_property_id", table_name="reservations")


def downgrade() -> None:
    op.create_index("ix_reservations_property_id", "reservations", ["property_id"])
    op.drop_index("ix_reservations_property_ending", table_name="reservations")
    op.create_index("ix_grants_window", "grants", ["starts_at", "ends_at"])
    op.drop_index("ix_grants_ending", table_name="grants")
