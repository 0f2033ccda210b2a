"""Sessions end when idle, when old, when signed out, and when their user is disabled."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from doorcode.services.caller import Role
from doorcode.services.users import set_user_disabled
from doorcode.services.web_sessions import (
    SessionPolicy,
    SignInRefused,
    resume_session,
    sign_in,
    sign_out,
)
from doorcode.store.models import Event, User, WebSession
from tests.builders import PASSWORD, make_owner, make_user

HERE = "192.0.2.10"


@pytest.fixture
def owner(runtime):
    caller = make_owner(runtime)
    make_user(runtime, caller, "ada", Role.MANAGER)
    return caller


def test_a_session_speaks_for_its_user(runtime, owner):
    opened = sign_in(runtime.uow(), "Ada", PASSWORD, HERE)
    session = resume_session(runtime.uow(), opened.token)
    assert session.caller.actor == "user:ada"
    assert session.caller.role is Role.MANAGER
    assert session.caller.organisation_id == owner.organisation_id
    assert session.csrf_token == opened.csrf_token
    with runtime.uow() as uow:
        [row] = uow.session.scalars(select(WebSession))
        assert row.token_hash != opened.token  # only a hash is stored
        assert opened.token not in repr(opened)


def test_a_session_ends_after_two_idle_hours_but_use_keeps_it(runtime, owner, clock):
    token = sign_in(runtime.uow(), "ada", PASSWORD, HERE).token
    for _ in range(5):
        clock.advance(minutes=110)
        assert resume_session(runtime.uow(), token) is not None
    clock.advance(hours=2)
    assert resume_session(runtime.uow(), token) is None
    with runtime.uow() as uow:
        assert list(uow.session.scalars(select(WebSession))) == []


def test_a_session_ends_after_twelve_hours_whatever_happens(runtime, owner, clock):
    token = sign_in(runtime.uow(), "ada", PASSWORD, HERE).token
    for _ in range(11):
        clock.advance(hours=1)
        assert resume_session(runtime.uow(), token) is not None
    clock.advance(hours=1)
    assert resume_session(runtime.uow(), token) is None


def test_the_lifetimes_are_settings(runtime, owner, clock):
    short = SessionPolicy(idle=timedelta(minutes=5))
    token = sign_in(runtime.uow(), "ada", PASSWORD, HERE, policy=short).token
    clock.advance(minutes=6)
    assert resume_session(runtime.uow(), token, short) is None


def test_disabling_a_user_ends_their_sessions_and_refuses_them(runtime, owner):
    token = sign_in(runtime.uow(), "ada", PASSWORD, HERE).token
    set_user_disabled(runtime.uow(), owner, "ada", True)
    assert resume_session(runtime.uow(), token) is None
    with pytest.raises(SignInRefused):
        sign_in(runtime.uow(), "ada", PASSWORD, HERE)


def test_signing_in_and_out_is_audited_without_secrets(runtime, owner):
    opened = sign_in(runtime.uow(), "ada", PASSWORD, HERE)
    sign_out(runtime.uow(), opened.token)
    assert resume_session(runtime.uow(), opened.token) is None
    with pytest.raises(SignInRefused):
        sign_in(runtime.uow(), "ada", "wrong wrong wrong", HERE)
    with runtime.uow() as uow:
        events = list(uow.session.scalars(select(Event).order_by(Event.id)))
        user = uow.session.scalars(select(User)).one()
        assert user.last_sign_in_at is not None
        assert user.password_hash.startswith("$argon2id$")
    kinds = [event.kind for event in events if event.subject_type == "user"]
    assert kinds == ["UserCreated", "UserSignedIn", "UserSignedOut", "UserSignInFailed"]
    for event in events:
        assert PASSWORD not in str(event.details) + event.reason
        assert opened.token not in str(event.details) + event.reason


def test_production_hashes_are_argon2id_with_real_cost(monkeypatch):
    from argon2 import PasswordHasher

    from doorcode.services import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + "!")
    assert not passwords.verify_password("not a hash", PASSWORD)
