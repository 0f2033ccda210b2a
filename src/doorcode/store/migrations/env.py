"""Alembic environment: runs doorcode's migrations against the URL the caller configured."""

from alembic import context
from sqlalchemy import Connection

from doorcode.store.database import create_database_engine
from doorcode.store.migrate import is_ours
from doorcode.store.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    """Migrate over ``connection``; batch mode lets SQLite alter tables by copying them."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=is_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the caller's connection when given (tests), else open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_database_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as opened:
        run_migrations(opened)
    engine.dispose()


run_online()
