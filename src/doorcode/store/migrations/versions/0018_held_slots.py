"""held slots: one grant per slot of a lock across processes; a lock's first inventory

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:10:00.000000

A slot was chosen by one pass from what that pass had loaded, so two passes over one lock in
two processes (``doorcode lock sync`` beside ``serve`` on SQLite, two workers on PostgreSQL)
could reserve the same slot for two grants, and the second write would overwrite the first
guest's code. ``lock_codes.slot_released_at`` marks a slot its grant no longer holds (the grant
is over and its code is off the lock; NULL: held), and a partial unique index allows one
holder per (lock, slot), so the second reservation fails and its pass takes another slot.
The slot itself stays recorded: a late keypad event still names whoever held it then.

Existing rows: a slot whose grant is over (revoked or ended) and whose code is absent is
released now; where two grants still hold one slot, the one whose code is recorded there
keeps it (else the later starting grant) and the others are released: their codes cannot be
on the lock, and their next write takes a free slot.

``locks.inventoried_at`` is when a pass first completed a lock's listing. The codes on a slot
lock at that first inventory are the owner's; it was read from ``synced_at``, which a failed
or crashed pass sets too, so a first pass that crashed left the owner's codes to be cleared as
strays by the next. Existing locks with a ``synced_at`` count as inventoried.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import doorcode.store.column_types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HELD = "slot IS NOT NULL AND slot_released_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "slot_released_at",
                doorcode.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "inventoried_at",
                doorcode.store.column_types.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
    op.execute("UPDATE locks SET inventoried_at = synced_at")
    _release_stale_slots(op.get_bind())
    op.create_index(
        "uq_lock_codes_held_slot",
        "lock_codes",
        ["lock_id", "slot"],
        unique=True,
        sqlite_where=sa.text(_HELD),
        postgresql_where=sa.text(_HELD),
    )


def downgrade() -> None:
    op.drop_index("uq_lock_codes_held_slot", table_name="lock_codes")
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_column("inventoried_at")
    with op.batch_alter_table("lock_codes", schema=None) as batch_op:
        batch_op.drop_column("slot_released_at")


def _release_stale_slots(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    metadata = sa.MetaData()
    codes = sa.Table("lock_codes", metadata, autoload_with=connection)
    grants = sa.Table("grants", metadata, autoload_with=connection)
    rows = connection.execute(
        sa.select(
            codes.c.lock_id,
            codes.c.grant_id,
            codes.c.slot,
            codes.c.actual,
            codes.c.provider_code_id,
            grants.c.starts_at,
            grants.c.ends_at,
            grants.c.revoked_at,
        )
        .join(grants, grants.c.id == codes.c.grant_id)
        .where(codes.c.slot.is_not(None))
    ).all()
    released: list[tuple[str, str]] = []
    holders: dict[tuple[str, int], list[Any]] = {}
    for row in rows:
        over = row.revoked_at is not None or _aware(row.ends_at) <= now
        if over and row.actual == "absent":
            released.append((row.lock_id, row.grant_id))
        else:
            holders.setdefault((row.lock_id, row.slot), []).append(row)
    for (_lock_id, slot), held in holders.items():
        held.sort(
            key=lambda r: (r.provider_code_id == str(slot), _aware(r.starts_at)), reverse=True
        )
        released += [(row.lock_id, row.grant_id) for row in held[1:]]
    if released:
        connection.execute(
            sa.update(codes)
            .where(
                codes.c.lock_id == sa.bindparam("lock_key"),
                codes.c.grant_id == sa.bindparam("grant_key"),
            )
            .values(slot_released_at=sa.bindparam("released_at")),
            [
                {"lock_key": lock_id, "grant_key": grant_id, "released_at": now}
                for lock_id, grant_id in released
            ],
        )


def _aware(instant: datetime) -> datetime:
    """SQLite hands instants back naive (stored in UTC); PostgreSQL aware."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
