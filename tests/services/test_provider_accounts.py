"""Provider accounts: encrypted, never shown, several per organisation; refused ones stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from doorcode.locks.errors import ProviderAuthFailed
from doorcode.locks.registry import ProviderRegistry
from doorcode.services.alerts import list_open_alerts
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import AlreadyExists, InvalidRequest, PermissionDenied
from doorcode.services.provider_accounts import (
    ACCOUNT_REFUSED,
    account_request,
    connect_account,
    list_accounts,
    remove_account,
)
from doorcode.store.models import Event, Lock
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.rate_limit import RateLimiter
from doorcode.sync.reconciler import Reconciler
from tests.builders import make_lock, make_owner, make_property
from tests.sync.helpers import CountingProvider

SECRET = "seam_live_key_7f3a9c"


def seam_request(runtime, label="Main workspace", **credentials):
    given = credentials or {"api_key": SECRET}
    return account_request(runtime.providers, "seam", label, given, {})


def dump(runtime):
    with runtime.engine.connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        ]
        return {t: connection.execute(text(f'SELECT * FROM "{t}"')).all() for t in tables}


def test_credentials_are_stored_encrypted_and_only_named_when_listed(runtime):
    owner = make_owner(runtime)
    connect_account(runtime.uow(), owner, seam_request(runtime))
    assert SECRET not in repr(dump(runtime))
    [summary] = list_accounts(runtime.uow(), owner)
    assert (summary.kind, summary.label, summary.credential_names) == (
        "seam",
        "Main workspace",
        ("api_key",),
    )
    assert SECRET not in repr(summary)


def test_an_organisation_connects_several_accounts_but_a_label_once_per_kind(runtime):
    owner = make_owner(runtime)
    connect_account(runtime.uow(), owner, seam_request(runtime, "Lisbon"))
    connect_account(runtime.uow(), owner, seam_request(runtime, "Porto"))
    virtual = account_request(runtime.providers, "virtual", "Porto", {}, {})
    with pytest.raises(AlreadyExists):
        connect_account(runtime.uow(), owner, virtual)
    assert [a.label for a in list_accounts(runtime.uow(), owner)] == ["Lisbon", "Porto"]


@pytest.mark.parametrize(
    ("kind", "credentials", "options", "why"),
    [
        ("seam", {}, {}, "needs: api_key"),
        ("seam", {"api_key": SECRET, "password": "x"}, {}, "takes no password"),
        ("zwave", {}, {}, "unknown kind"),
        ("seam", {"api_key": SECRET}, {"base_url": "ftp://x"}, "http(s) URL"),
        ("seam", {"api_key": SECRET}, {"region": "eu"}, "unknown option"),
    ],
)
def test_a_bad_account_is_refused_with_why_and_nothing_is_stored(
    runtime, kind, credentials, options, why
):
    owner = make_owner(runtime)
    before = dump(runtime)
    with pytest.raises(InvalidRequest) as refused:
        connect_account(
            runtime.uow(),
            owner,
            account_request(runtime.providers, kind, "Main", credentials, options),
        )
    assert why in str(refused.value)
    assert dump(runtime) == before


def test_only_an_owner_connects_or_removes_an_account(runtime):
    owner = make_owner(runtime)
    manager = Caller(owner.organisation_id, "test:manager", Role.MANAGER)
    with pytest.raises(PermissionDenied):
        connect_account(runtime.uow(), manager, seam_request(runtime))
    connect_account(runtime.uow(), owner, seam_request(runtime))
    with pytest.raises(PermissionDenied):
        remove_account(runtime.uow(), manager, "Main workspace")
    assert len(list_accounts(runtime.uow(), owner)) == 1


def test_an_account_with_locks_cannot_be_removed_until_they_are_gone(runtime):
    owner = make_owner(runtime)
    make_lock(runtime, owner, "Front door")
    with pytest.raises(InvalidRequest, match="remove them first"):
        remove_account(runtime.uow(), owner, "Virtual locks")
    connect_account(runtime.uow(), owner, seam_request(runtime))
    remove_account(runtime.uow(), owner, "Main workspace")
    assert [a.label for a in list_accounts(runtime.uow(), owner)] == ["Virtual locks"]


def test_a_refused_credential_stops_the_account_locks_until_it_is_reconnected(runtime, clock):
    owner = make_owner(runtime)
    make_property(runtime, owner, "Flat 1")
    install_virtual_locks(runtime)
    counting = CountingProvider(runtime.providers.shared("virtual"))
    refusing = Refusing(counting)
    runtime.providers = ProviderRegistry([refusing])
    reconciler = Reconciler.from_runtime(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    [alert] = list_open_alerts(runtime.uow(), owner.organisation_id)
    assert alert.kind == ACCOUNT_REFUSED
    calls = sum(counting.calls.values()) + refusing.refusals
    for _ in range(3):
        clock.advance(hours=7)
        asyncio.run(reconciler.reconcile(reconciler.every_lock()))
    assert sum(counting.calls.values()) + refusing.refusals == calls  # no retry storm
    with runtime.uow() as uow:
        [lock] = uow.session.scalars(select(Lock)).all()
        assert lock.next_sync_at is None
        assert "refused" in lock.sync_error
    refusing.refusing = False
    request = account_request(runtime.providers, "virtual", "Virtual locks", {}, {})
    connect_account(runtime.uow(), owner, request)
    assert list_open_alerts(runtime.uow(), owner.organisation_id) == []
    [outcome] = asyncio.run(reconciler.reconcile(reconciler.pending()))
    assert outcome.error is None


def test_no_event_or_alert_ever_holds_a_credential(runtime):
    owner = make_owner(runtime)
    connect_account(runtime.uow(), owner, seam_request(runtime))
    connect_account(runtime.uow(), owner, seam_request(runtime, api_key="seam_other_key_1"))
    with runtime.uow() as uow:
        details = [repr(e.details) for e in uow.session.scalars(select(Event))]
    assert details
    assert not any(SECRET in d or "seam_other_key_1" in d for d in details)


def test_a_rate_limit_pause_holds_one_account_not_another(clock):
    limiter = RateLimiter(clock)
    limiter.pause("pac_lisbon", clock() + timedelta(minutes=5))
    assert limiter.paused_until("pac_lisbon") is not None
    assert limiter.paused_until("pac_porto") is None


class Refusing(CountingProvider):
    """Forwards to a provider, but refuses the credentials while ``refusing``."""

    def __init__(self, inner):
        super().__init__(inner.inner, name="virtual")
        self.counting = inner
        self.refusing = True
        self.refusals = 0

    async def list_codes(self, device_id):
        if self.refusing:
            self.refusals += 1
            raise ProviderAuthFailed("the API key was revoked")
        return await self.counting.list_codes(device_id)


def test_a_lock_whose_device_its_back_end_forgot_raises_an_alert_cleared_on_its_return(
    runtime, clock
):
    owner = make_owner(runtime)
    make_property(runtime, owner, "Flat 1")
    install_virtual_locks(runtime)
    cloud = runtime.providers.virtual_cloud
    reconciler = Reconciler.from_runtime(runtime)
    cloud.remove("acme-flat-1-door")
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    [alert] = list_open_alerts(runtime.uow(), owner.organisation_id)
    assert (alert.kind, alert.subject_type) == ("LockDeviceGone", "lock")
    install_virtual_locks(runtime)
    asyncio.run(reconciler.reconcile(reconciler.every_lock(), force=True))
    assert list_open_alerts(runtime.uow(), owner.organisation_id) == []
