"""Repositories on SQLite and PostgreSQL: UTC round trips, tenant scoping, overlap queries.

And the migrations: at head, racing processes, the schema they build, and the data they move.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from doorcode.domain.windows import TimeWindow
from doorcode.services.guidebook import open_guidebook
from doorcode.store.code_cipher import CodeCipher, UnreadableSecret
from doorcode.store.migrate import downgrade, is_current, upgrade
from doorcode.store.models import Grant, LockCode, Organisation
from tests.builders import book, guide_token_of, make_lock, make_owner, make_property
from tests.conftest import make_runtime

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)


def add_grant(runtime, organisation_id, lock_ids, starts, hours, code, revoked=False):
    with runtime.uow() as uow:
        grant = Grant(
            organisation_id=organisation_id,
            kind="manual",
            holder="x",
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            version=1,
            created_at=NOON,
            updated_at=NOON,
            revoked_at=NOON if revoked else None,
        )
        uow.grants.set_code(grant, code)
        grant.lock_codes = [LockCode(lock_id=lock_id) for lock_id in lock_ids]
        uow.grants.add(grant)
        uow.commit()
        return grant


def test_migrations_are_at_head(any_runtime):
    assert is_current(any_runtime.engine)


def test_instants_come_back_aware_in_utc_whatever_offset_went_in(any_runtime):
    lisbon_summer = timezone(timedelta(hours=1))
    with any_runtime.uow() as uow:
        uow.organisations.add(
            Organisation(
                slug="x", name="x", created_at=datetime(2026, 7, 1, 12, tzinfo=lisbon_summer)
            )
        )
        uow.commit()
    with any_runtime.uow() as uow:
        stored = uow.organisations.by_slug("x").created_at
    assert stored == datetime(2026, 7, 1, 11, tzinfo=UTC)
    assert stored.tzinfo is UTC


def test_naive_instants_are_refused(any_runtime):
    with any_runtime.uow() as uow:
        uow.organisations.add(Organisation(slug="x", name="x", created_at=datetime(2026, 7, 1)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetimes cannot be stored"):
            uow.commit()


def test_codes_in_use_sees_only_overlapping_unrevoked_grants_on_the_given_locks(any_runtime):
    owner = make_owner(any_runtime)
    one, two = make_lock(any_runtime, owner, "one"), make_lock(any_runtime, owner, "two")
    org = owner.organisation_id
    add_grant(any_runtime, org, [one.id], NOON, 24, "111111")
    add_grant(any_runtime, org, [one.id], NOON + timedelta(hours=24), 24, "222222")  # touches
    add_grant(any_runtime, org, [two.id], NOON, 24, "333333")  # other lock
    add_grant(any_runtime, org, [one.id, two.id], NOON, 24, "444444", revoked=True)
    with any_runtime.uow() as uow:
        window = TimeWindow(NOON + timedelta(hours=23), NOON + timedelta(hours=24))
        assert uow.grants.codes_in_use({one.id}, window) == ["111111"]
        later = TimeWindow(NOON + timedelta(hours=24), NOON + timedelta(hours=25))
        assert uow.grants.codes_in_use({one.id}, later) == ["222222"]
        both = sorted(uow.grants.codes_in_use({one.id, two.id}, window))
        assert both == ["111111", "333333"]


def test_lookups_never_cross_organisations(any_runtime):
    mine, theirs = make_owner(any_runtime, "mine"), make_owner(any_runtime, "theirs")
    flat = make_property(any_runtime, mine, "Flat", external_id="f1")
    with any_runtime.uow() as uow:
        assert uow.properties.find(mine.organisation_id, "f1").id == flat.id
        assert uow.properties.find(theirs.organisation_id, "f1") is None
        assert uow.properties.get(theirs.organisation_id, flat.id) is None
        assert uow.locks.all(theirs.organisation_id) == []


def test_a_second_guest_grant_for_one_reservation_is_refused_by_the_database(any_runtime):
    from tests.builders import book

    owner = make_owner(any_runtime)
    flat = make_property(any_runtime, owner, "Flat")
    outcome = book(any_runtime, owner, flat, "B-1", NOON.date(), NOON.date() + timedelta(days=2))
    with any_runtime.uow() as uow:
        duplicate = Grant(
            organisation_id=owner.organisation_id,
            kind="guest",
            reservation_id=outcome.reservation.id,
            starts_at=NOON,
            ends_at=NOON + timedelta(hours=1),
            version=1,
            created_at=NOON,
            updated_at=NOON,
        )
        uow.grants.set_code(duplicate, "999999")
        uow.grants.add(duplicate)
        with pytest.raises(IntegrityError):
            uow.commit()


def test_rotating_keys_keeps_old_codes_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = CodeCipher([old]).encrypt("4711")
    rotated = CodeCipher([new, old])
    assert rotated.decrypt(token) == "4711"
    assert CodeCipher([new]).decrypt(rotated.rotate(token)) == "4711"
    with pytest.raises(UnreadableSecret, match="DOORCODE_SECRET_KEY"):
        CodeCipher([new]).decrypt(token)
    assert "4711" not in repr(rotated)


@pytest.mark.postgres
def test_processes_starting_together_migrate_one_after_another(postgres_url):
    import subprocess
    import sys

    import psycopg

    from doorcode.store.database import create_database_engine

    admin_url = postgres_url.rsplit("/", 1)[0] + "/postgres"
    fresh = postgres_url + "_fresh"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh.rsplit("/", 1)[1]}"')
        admin.execute(f'CREATE DATABASE "{fresh.rsplit("/", 1)[1]}"')
    script = (
        "import sys; from cryptography.fernet import Fernet;"
        "from doorcode.store.code_cipher import CodeCipher;"
        "from doorcode.store.database import create_database_engine;"
        "from doorcode.store.migrate import upgrade;"
        "upgrade(create_database_engine(sys.argv[1]), CodeCipher([Fernet.generate_key().decode()]))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, fresh], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
    engine = create_database_engine(fresh)
    assert is_current(engine)
    engine.dispose()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{fresh.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_the_migrations_build_exactly_the_schema_the_models_describe(any_runtime):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from doorcode.store.migrate import is_ours
    from doorcode.store.models import Base

    with any_runtime.engine.connect() as connection:
        options = {"compare_type": True, "include_name": is_ours}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def stored_rows(engine, table_name):
    """Every row of a table as the database holds it, whatever the models say it should."""
    with engine.connect() as connection:
        table = Table(table_name, MetaData(), autoload_with=connection)
        return [dict(row) for row in connection.execute(select(table)).mappings()]


def holding(rows, secret):
    """The columns of ``rows`` whose value contains ``secret``."""
    return [name for row in rows for name, value in row.items() if secret in str(value)]


def test_the_database_never_holds_a_guidebook_token_in_clear(any_runtime):
    owner = make_owner(any_runtime)
    flat = make_property(any_runtime, owner, "Flat 1")
    booked = book(any_runtime, owner, flat, "B-1", date(2026, 11, 25), date(2026, 11, 28))
    token = guide_token_of(any_runtime, booked.reservation)
    [row] = stored_rows(any_runtime.engine, "reservations")
    assert row["id"] == booked.reservation.id
    assert holding([row], token) == []
    with any_runtime.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection)
    for table in tables.sorted_tables:
        assert holding(stored_rows(any_runtime.engine, table.name), token) == [], table.name
    with any_runtime.uow() as uow:
        found = uow.reservations.by_guide_token(token)
        assert found is not None
        assert found.id == booked.reservation.id
        assert uow.reservations.by_guide_token(row["guide_token_digest"]) is None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_url(request, tmp_path):
    """A database no migration has touched yet, on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
        return
    server, name = request.getfixturevalue("postgres_url").rsplit("/", 1)
    name += "_unmigrated"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_links_sent_while_tokens_were_kept_in_clear_open_after_the_upgrade(
    unmigrated_url, clock, tmp_path
):
    runtime = make_runtime(unmigrated_url, clock, tmp_path)
    upgrade(runtime.engine, runtime.cipher)
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat 1")
    booked = book(runtime, owner, flat, "B-1", date(2026, 11, 23), date(2026, 11, 26))
    other = book(runtime, owner, flat, "B-2", date(2026, 11, 27), date(2026, 11, 29))
    tokens = {r.id: guide_token_of(runtime, r) for r in (booked.reservation, other.reservation)}

    # Back to the schema before 0009, which kept the token in clear, as links were sent then.
    downgrade(runtime.engine, runtime.cipher, "0008")
    clear = {row["id"]: row for row in stored_rows(runtime.engine, "reservations")}
    assert {key: row["guide_token"] for key, row in clear.items()} == tokens
    assert not {"guide_token_digest", "guide_token_encrypted"} & clear[booked.reservation.id].keys()

    upgrade(runtime.engine, runtime.cipher)
    assert is_current(runtime.engine)
    if runtime.engine.dialect.name == "sqlite":  # off while batch mode copied tables, only
        with runtime.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    rows = stored_rows(runtime.engine, "reservations")
    assert "guide_token" not in rows[0]
    for token in tokens.values():
        assert holding(rows, token) == []
    view = open_guidebook(runtime.uow(), tokens[booked.reservation.id], "203.0.113.7")
    assert (view.guest_name, view.property_name) == ("Ada Lovelace", "Flat 1")
    with runtime.uow() as uow:
        for reservation_id, token in tokens.items():
            found = uow.reservations.by_guide_token(token)
            assert found is not None
            assert found.id == reservation_id
            assert uow.reservations.guide_token_of(found) == token
    runtime.close()


def test_virtual_locks_from_before_accounts_land_in_one_virtual_account_per_organisation(
    unmigrated_url, clock, tmp_path
):
    runtime = make_runtime(unmigrated_url, clock, tmp_path)
    upgrade(runtime.engine, runtime.cipher)
    acme, other = make_owner(runtime, "acme"), make_owner(runtime, "other")
    for owner, names in ((acme, ["Front", "Back"]), (other, ["Gate"])):
        for name in names:
            make_lock(runtime, owner, name)

    downgrade(runtime.engine, runtime.cipher, "0009")
    assert "account_id" not in stored_rows(runtime.engine, "locks")[0]
    upgrade(runtime.engine, runtime.cipher)

    accounts = {row["id"]: row for row in stored_rows(runtime.engine, "provider_accounts")}
    locks = stored_rows(runtime.engine, "locks")
    by_organisation = {
        (accounts[lock["account_id"]]["organisation_id"], accounts[lock["account_id"]]["label"])
        for lock in locks
    }
    assert by_organisation == {
        (acme.organisation_id, "Virtual locks"),
        (other.organisation_id, "Virtual locks"),
    }
    assert all(
        accounts[lock["account_id"]]["organisation_id"] == lock["organisation_id"] for lock in locks
    )
    assert runtime.cipher.decrypt(next(iter(accounts.values()))["credentials_token"]) == "{}"
    runtime.close()


def test_slots_two_grants_recorded_before_0018_are_left_to_the_one_whose_code_is_there(
    unmigrated_url, clock, tmp_path
):
    from sqlalchemy import text

    from doorcode.services.reservations import cancel_reservation

    runtime = make_runtime(unmigrated_url, clock, tmp_path)
    upgrade(runtime.engine, runtime.cipher)
    owner = make_owner(runtime)
    lock = make_lock(runtime, owner, "Front door")
    flat = make_property(runtime, owner, "Flat", locks=[lock])
    start = datetime.now(UTC).date() + timedelta(days=30)  # the migration: real clock
    there, beside, gone = (
        book(runtime, owner, flat, ref, start, start + timedelta(days=2)).grant.id
        for ref in ("B-1", "B-2", "B-3")
    )
    with runtime.uow() as uow:
        reservation_id = uow.session.get(Grant, gone).reservation_id
    cancel_reservation(runtime.uow(), owner, reservation_id)

    downgrade(runtime.engine, runtime.cipher, "0017")
    recorded = {there: (4, "present", "4"), beside: (4, "absent", None), gone: (6, "absent", None)}
    with runtime.engine.begin() as connection:
        for grant_id, (slot, actual, code_id) in recorded.items():
            connection.execute(
                text(
                    "UPDATE lock_codes SET slot = :slot, actual = :actual,"
                    " provider_code_id = :code_id WHERE grant_id = :grant_id"
                ),
                {"slot": slot, "actual": actual, "code_id": code_id, "grant_id": grant_id},
            )
    upgrade(runtime.engine, runtime.cipher)

    rows = {row["grant_id"]: row for row in stored_rows(runtime.engine, "lock_codes")}
    held = {grant_id for grant_id, row in rows.items() if row["slot_released_at"] is None}
    assert held == {there}
    assert {grant_id: row["slot"] for grant_id, row in rows.items()} == {
        there: 4,
        beside: 4,
        gone: 6,
    }
    with runtime.uow() as uow:
        assert not uow.lock_sync.reserve_slot(lock.id, beside, 4)
    with runtime.uow() as uow:
        assert uow.lock_sync.reserve_slot(lock.id, beside, 6)
        uow.commit()
    runtime.close()


def test_0021_trusts_the_pin_on_the_lock_only_for_grants_whose_code_never_changed(
    unmigrated_url, clock, tmp_path
):
    # A masked lock shows no digits: a confirmed code of a grant with one PIN ever holds that
    # PIN (no rewrite at upgrade); one whose PIN changed may hold the old one (written again).
    from sqlalchemy import text

    from doorcode.services.grants import regenerate_code

    runtime = make_runtime(unmigrated_url, clock, tmp_path)
    upgrade(runtime.engine, runtime.cipher)
    owner = make_owner(runtime)
    flat = make_property(runtime, owner, "Flat", locks=[make_lock(runtime, owner, "Front door")])
    start = datetime.now(UTC).date() + timedelta(days=30)  # the migration: real clock
    kept, changed, unconfirmed = (
        book(runtime, owner, flat, ref, start, start + timedelta(days=2)).grant.id
        for ref in ("B-1", "B-2", "B-3")
    )
    regenerate_code(runtime.uow(), owner, changed)
    downgrade(runtime.engine, runtime.cipher, "0020")
    with runtime.engine.begin() as connection:
        connection.execute(
            text("UPDATE lock_codes SET confirmed_version = 1 WHERE grant_id IN (:a, :b)"),
            {"a": kept, "b": changed},
        )
    upgrade(runtime.engine, runtime.cipher)

    tokens = {row["id"]: row["code_token"] for row in stored_rows(runtime.engine, "grants")}
    written = {
        row["grant_id"]: row["written_code_token"]
        for row in stored_rows(runtime.engine, "lock_codes")
    }
    assert written == {kept: tokens[kept], changed: None, unconfirmed: None}
    runtime.close()


def test_a_pulled_backup_record_outlives_its_grant_row_and_holds_a_downgrade_while_pending(
    any_runtime,
):
    from sqlalchemy import delete, update

    from doorcode.store.models import PulledBackupCode

    owner = make_owner(any_runtime)
    lock = make_lock(any_runtime, owner, "Front door")
    grant = add_grant(any_runtime, owner.organisation_id, [lock.id], NOON, 4, "4821")
    with any_runtime.uow() as uow:
        record = PulledBackupCode(
            organisation_id=owner.organisation_id,
            grant_id=grant.id,
            lock_id=lock.id,
            code_ref="backup_1",
            pulled_at=NOON,
        )
        uow.session.add(record)
        uow.session.flush()
        uow.session.execute(delete(Grant).where(Grant.id == grant.id))
        uow.commit()
    [kept] = stored_rows(any_runtime.engine, "pulled_backup_codes")
    assert (kept["grant_id"], kept["removed_at"]) == (grant.id, None)
    with pytest.raises(RuntimeError, match="still on their lock"):
        downgrade(any_runtime.engine, any_runtime.cipher, "0019")
    # Refused as a whole: the later revisions' downgrades, run before the guard, are undone
    # too (on SQLite their table copies as well), so the next attempt starts clean.
    assert is_current(any_runtime.engine)
    assert not [name for name in inspect(any_runtime.engine).get_table_names() if "tmp" in name]
    assert len(stored_rows(any_runtime.engine, "pulled_backup_codes")) == 1
    with any_runtime.uow() as uow:
        uow.session.execute(update(PulledBackupCode).values(removed_at=NOON))
        uow.commit()
    downgrade(any_runtime.engine, any_runtime.cipher, "0019")
    assert stored_rows(any_runtime.engine, "pulled_backup_codes") == []
    upgrade(any_runtime.engine, any_runtime.cipher)
    assert is_current(any_runtime.engine)


def test_a_loaded_lock_shows_the_sync_it_was_asked_for_in_its_transaction(any_runtime, clock):
    # The mark is an UPDATE of the table: a lock this transaction had loaded must not keep
    # its old mark, in the transaction or once it is over (the API renders such objects).
    owner = make_owner(any_runtime)
    lock = make_lock(any_runtime, owner, "Front door")
    with any_runtime.uow() as uow:
        loaded = uow.locks.get(owner.organisation_id, lock.id)
        before = loaded.sync_requests
        uow.touch_locks([lock.id])
        marked = (before + 1, uow.now)
        assert (loaded.sync_requests, loaded.sync_requested_at) == marked
        uow.commit()
    assert (loaded.sync_requests, loaded.sync_requested_at) == marked
    with any_runtime.uow() as uow:
        stored = uow.locks.get(owner.organisation_id, lock.id)
        assert (stored.sync_requests, stored.sync_requested_at) == marked
