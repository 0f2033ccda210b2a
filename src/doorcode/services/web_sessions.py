"""Dashboard sessions: signing in, finding the session behind a cookie, signing out.

A session is a row keyed by the SHA-256 of a 256-bit secret that only the browser's cookie
holds. Signing in always makes a new secret and ends any session the browser presented,
so an identifier planted before sign-in (session fixation) never becomes a signed-in one.
A session ends after ``idle`` without use or ``absolute`` after sign-in, whichever is first,
and at once when its user is disabled.

Sign-in failures count against the account and the client's address
(``services.throttling``); past a limit, attempts are refused unchecked until it frees up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from doorcode.services.audit import record_event
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import ServiceError
from doorcode.services.passwords import (
    hash_password,
    needs_rehash,
    verify_password,
    waste_a_verification,
)
from doorcode.services.throttling import (
    SIGN_IN_PER_ACCOUNT,
    SIGN_IN_PER_ADDRESS,
    Subject,
    blocked_until,
    clear_failures,
    record_failure,
)
from doorcode.store.models import User, WebSession
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "MAX_PASSWORD_CHECKED",
    "ActiveSession",
    "NewSession",
    "SessionPolicy",
    "SignInRefused",
    "SignInThrottled",
    "resume_session",
    "sign_in",
    "sign_out",
]

TOUCH_RESOLUTION = timedelta(minutes=1)
MAX_PASSWORD_CHECKED = 1024


class SignInRefused(ServiceError):
    """Wrong username or password, or a disabled user (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("the username or the password is wrong")


class SignInThrottled(ServiceError):
    """Too many failures for this account or address; nothing is checked until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed sign-ins: try again later")
        self.until = until


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: ``idle`` without a request, ``absolute`` after sign-in."""

    idle: timedelta = timedelta(hours=2)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just made: the cookie's secret (shown once) and the form token."""

    token: str = field(repr=False)
    csrf_token: str = field(repr=False)
    username: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """The signed-in user behind a request, as the services see them, and the form token."""

    caller: Caller
    username: str
    csrf_token: str = field(repr=False)


def sign_in(
    uow: UnitOfWork,
    username: str,
    password: str,
    client_address: str,
    *,
    replacing: str | None = None,
    policy: SessionPolicy | None = None,
) -> NewSession:
    """A new session for the user, or ``SignInRefused`` / ``SignInThrottled``.

    ``replacing`` is the session cookie the browser sent, if any: it is ended either way.
    """
    username = username.strip().lower()[:64]
    subjects = [
        SIGN_IN_PER_ACCOUNT.subject("account", username),
        SIGN_IN_PER_ADDRESS.subject("address", client_address),
    ]
    with uow:
        until = blocked_until(uow, subjects)
        if until is not None:
            raise SignInThrottled(until)
        user = uow.users.by_username(username)
        stored_hash = user.password_hash if user is not None else None
    if not _password_matches(stored_hash, password) or user is None or user.disabled:
        _refuse(uow, subjects, user)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    opened = _Opening(user.id, client_address, replacing, new_hash)
    return _open_session(uow, opened, policy or SessionPolicy())


def resume_session(
    uow: UnitOfWork, token: str, policy: SessionPolicy | None = None
) -> ActiveSession | None:
    """The live session whose cookie secret is ``token``, or None (an ended one is removed)."""
    policy = policy or SessionPolicy()
    token_hash = _digest(token)
    with uow:
        found = uow.web_sessions.get(token_hash)
        if found is None:
            return None
        user = found.user
        idle_until = found.last_seen_at + policy.idle
        if uow.now >= min(found.expires_at, idle_until) or user.disabled:
            uow.web_sessions.end([token_hash])
            uow.commit()
            return None
        if uow.now - found.last_seen_at >= TOUCH_RESOLUTION:
            uow.web_sessions.touch(token_hash, uow.now)
            uow.commit()
        return ActiveSession(_caller_of(user), user.username, found.csrf_token)


def sign_out(uow: UnitOfWork, token: str) -> None:
    """End the session whose cookie secret is ``token`` (nothing happens if there is none)."""
    token_hash = _digest(token)
    with uow:
        found = uow.web_sessions.get(token_hash)
        if found is None:
            return
        uow.web_sessions.end([token_hash])
        record_event(uow, _caller_of(found.user), ("user", found.user_id), "UserSignedOut")
        uow.commit()


def _password_matches(stored_hash: str | None, password: str) -> bool:
    """Argon2 runs once whether or not the user exists; absurdly long input is not hashed."""
    if len(password) > MAX_PASSWORD_CHECKED:
        return False
    if stored_hash is None:
        waste_a_verification(password)
        return False
    return verify_password(stored_hash, password)


def _refuse(uow: UnitOfWork, subjects: list[Subject], user: User | None) -> NoReturn:
    with uow:
        record_failure(uow, subjects)
        if user is not None:
            caller = _caller_of(user)
            record_event(uow, caller, ("user", user.id), "UserSignInFailed", "wrong password")
        uow.commit()
    raise SignInRefused


@dataclass(frozen=True, slots=True)
class _Opening:
    """A verified sign-in: whose, from where, replacing which cookie, and a fresher hash."""

    user_id: str
    client_address: str
    replacing: str | None = field(repr=False)
    new_hash: str | None = field(repr=False)


def _open_session(uow: UnitOfWork, opening: _Opening, policy: SessionPolicy) -> NewSession:
    token = secrets.token_urlsafe(32)
    with uow:
        user = uow.users.get(opening.user_id)
        assert user is not None
        if opening.replacing:
            uow.web_sessions.end([_digest(opening.replacing)])
        if opening.new_hash is not None:
            user.password_hash = opening.new_hash
        uow.web_sessions.end_expired(uow.now)
        clear_failures(uow, [SIGN_IN_PER_ACCOUNT.subject("account", user.username)])
        created = WebSession(
            token_hash=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=uow.now,
            last_seen_at=uow.now,
            expires_at=uow.now + policy.absolute,
            client_address=opening.client_address[:64],
        )
        uow.web_sessions.add(created)
        user.last_sign_in_at = uow.now
        record_event(uow, _caller_of(user), ("user", user.id), "UserSignedIn")
        uow.commit()
        return NewSession(token, created.csrf_token, user.username, created.expires_at)


def _caller_of(user: User) -> Caller:
    return Caller(user.organisation_id, f"user:{user.username}", Role(user.role))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
