"""Reconnecting a TTLock account with another login never keeps using the old login's tokens."""

from __future__ import annotations

from datetime import timedelta

from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import ProviderAccountRow
from tests.builders import book
from tests.locks.fakes.accounts import BASE_URL, CREDENTIALS
from tests.locks.test_vendor_offline_codes import TOMORROW, sync, world


def test_a_reconnected_account_with_a_wrong_password_is_refused_not_served_old_tokens(
    sqlite_url, clock, tmp_path
):
    runtime, owner, prop, _lock, fake, device = world(sqlite_url, clock, tmp_path)
    try:
        sync(runtime)  # signs in; the tokens are kept for the next pass
        wrong = dict(CREDENTIALS["ttlock"], password="not the password")
        request = account_request(
            runtime.providers, "ttlock", "Our ttlock", wrong, {"base_url": BASE_URL}
        )
        connect_account(runtime.uow(), owner, request)
        book(runtime, owner, prop, "r1", TOMORROW, TOMORROW + timedelta(days=2))
        sync(runtime)
        with runtime.uow() as uow:
            [account] = uow.session.query(ProviderAccountRow).all()
            assert account.refused_at is not None
        assert not fake.locks[device].passcodes
    finally:
        runtime.close()
