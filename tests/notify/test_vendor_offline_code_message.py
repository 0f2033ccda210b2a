"""A guest whose lock takes only TTLock's offline code is emailed that code and its rules.

The whole path: the account connected and its gateway-less lock imported, the reconciler
asks TTLock for the stay's code, and the message loop emails it to a real aiosmtpd server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from random import Random

from doorcode.bootstrap import bootstrap
from doorcode.config import Settings
from doorcode.notify.loop import run_messages_once
from doorcode.store.models import LockCode
from tests.builders import book, make_owner, make_property
from tests.conftest import TEST_KEY
from tests.locks.fakes import ttlock
from tests.locks.fakes.accounts import connect_and_import, registry_on
from tests.sync.helpers import reconcile

IN = date(2026, 11, 26)


def text_of(received):
    return received.message.get_body(("plain",)).get_content()


def test_the_guest_is_emailed_ttlocks_offline_code_with_its_rules(
    sqlite_url, clock, tmp_path, smtp_server, channels
):
    fake = ttlock.TtlockCloud(clock)
    device = fake.add_lock("Cabin door", has_gateway=False)
    settings = Settings(database_url=sqlite_url, secret_key=TEST_KEY, data_dir=tmp_path)
    runtime = bootstrap(
        settings, clock=clock, rng=Random(5), migrate=False, providers=registry_on(fake)
    )
    try:
        owner = make_owner(runtime)
        connect_and_import(runtime, owner, "ttlock")
        with runtime.uow() as uow:
            lock = uow.locks.by_provider_id("ttlock", str(device))
        cabin = make_property(runtime, owner, "Cabin", locks=[lock], time_zone="Europe/Lisbon")
        grant = book(runtime, owner, cabin, "r1", IN, IN + timedelta(days=2)).grant
        clock.now = datetime(2026, 11, 24, 10, tzinfo=UTC)  # two days before
        reconcile(runtime)
        run_messages_once(runtime, channels)
        [email] = smtp_server.received
        with runtime.uow() as uow:
            [row] = uow.session.query(LockCode).filter_by(grant_id=grant.id).all()
            code = uow.offline.offline_code_of(row)
        assert code is not None
        text = " ".join(text_of(email).split())
        assert f"Your door code: {code}" in text
        assert f"Cabin door: {code}" in text
        assert "Use it once within 24 hours of its start, or the lock stops accepting it." in text
        assert "whole hours" in text
    finally:
        runtime.close()
