"""The cheap "is the schema current?" check agrees with Alembic, and doubts when it should."""

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from doorcode.store import schema_head
from doorcode.store.migrate import alembic_config


def test_the_newest_revision_is_alembics_head():
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert schema_head.newest_revision() == head


def test_a_migrated_database_is_current_and_an_empty_one_is_not(sqlite_url, tmp_path):
    assert schema_head.is_current(create_engine(sqlite_url))
    assert not schema_head.is_current(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"))


def test_two_heads_or_none_mean_ask_alembic(tmp_path):
    (tmp_path / "a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "0002"\ndown_revision = "0001"\n')
    (tmp_path / "c.py").write_text('revision = "0003"\ndown_revision = "0001"\n')
    assert schema_head.newest_revision(tmp_path) is None
    (tmp_path / "c.py").write_text('revision: str = "0003"\ndown_revision: str | None = "0002"\n')
    assert schema_head.newest_revision(tmp_path) == "0003"
