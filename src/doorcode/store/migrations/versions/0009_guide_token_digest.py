"""guidebook tokens at rest: a SHA-256 digest to look up, a Fernet copy to write links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:00:00.000000

The token in a guest's guidebook link is their only credential, and the link shows door
codes, so a copy of the database must not open every guidebook. ``guide_token`` (in clear)
becomes ``guide_token_digest`` (SHA-256 hex, unique: what a presented link is looked up by)
and ``guide_token_encrypted`` (Fernet, as codes are: what messages and the dashboard write
links from). Existing links keep working: each row's digest and copy come from its token.

Encrypting needs the secret key. ``doorcode.store.migrate.upgrade`` is the only way
migrations run (``serve``, ``doorcode db upgrade`` and every other command go through it),
and it hands over the very ``CodeCipher`` the application runs with in
``config.attributes["cipher"]``, so this migration neither reads the settings a second way
nor makes a key file of its own. The downgrade decrypts with the same cipher to restore
the column in clear.
"""

from collections.abc import Sequence
from hashlib import sha256

import sqlalchemy as sa
from alembic import context, op

from doorcode.store.code_cipher import CodeCipher

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

reservations = sa.table(
    "reservations",
    sa.column("id", sa.String()),
    sa.column("guide_token", sa.String()),
    sa.column("guide_token_digest", sa.String()),
    sa.column("guide_token_encrypted", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guide_token_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("guide_token_encrypted", sa.Text(), nullable=True))
    _seal_every_guide_token()
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.alter_column(
            "guide_token_digest", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.alter_column("guide_token_encrypted", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_reservations_guide_token_digest"), ["guide_token_digest"], unique=True
        )
        batch_op.drop_constraint(batch_op.f("uq_reservations_guide_token"), type_="unique")
        batch_op.drop_column("guide_token")


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guide_token", sa.String(length=64), nullable=True))
    _unseal_every_guide_token()
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.alter_column("guide_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_reservations_guide_token"), ["guide_token"]
        )
        batch_op.drop_index(batch_op.f("ix_reservations_guide_token_digest"))
        batch_op.drop_column("guide_token_encrypted")
        batch_op.drop_column("guide_token_digest")


def _seal_every_guide_token() -> None:
    """Give each row the digest and the encrypted copy of the token it holds in clear."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(reservations.c.id, reservations.c.guide_token)).all()
    if not rows:
        return
    cipher = _cipher()
    connection.execute(
        reservations.update()
        .where(reservations.c.id == sa.bindparam("row_id"))
        .values(
            guide_token_digest=sa.bindparam("digest"),
            guide_token_encrypted=sa.bindparam("encrypted"),
        ),
        [
            {
                "row_id": row_id,
                "digest": sha256(token.encode()).hexdigest(),
                "encrypted": cipher.encrypt(token),
            }
            for row_id, token in rows
        ],
    )


def _unseal_every_guide_token() -> None:
    """Put each row's token back in clear, decrypted from its copy."""
    connection = op.get_bind()
    query = sa.select(reservations.c.id, reservations.c.guide_token_encrypted)
    rows = connection.execute(query).all()
    if not rows:
        return
    cipher = _cipher()
    connection.execute(
        reservations.update()
        .where(reservations.c.id == sa.bindparam("row_id"))
        .values(guide_token=sa.bindparam("token")),
        [{"row_id": row_id, "token": cipher.decrypt(encrypted)} for row_id, encrypted in rows],
    )


def _cipher() -> CodeCipher:
    """The application's cipher, as ``doorcode.store.migrate.upgrade`` hands it over."""
    cipher: CodeCipher | None = context.config.attributes.get("cipher")
    if cipher is None:
        raise RuntimeError(
            "migration 0009 encrypts guidebook tokens and needs the secret key: "
            "run it through `doorcode db upgrade`, not Alembic alone"
        )
    return cipher
