"""Dashboard users: created by an owner (or the CLI), each with one role and a password.

The password is checked against ``domain.passwords`` and only its Argon2id hash is kept;
the audit log records who created whom, never anything about the password.
"""

from __future__ import annotations

import re

from doorcode.domain.passwords import password_problems
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import AlreadyExists, InvalidRequest, NotFound
from doorcode.services.passwords import hash_password
from doorcode.store.models import User
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["USERNAME", "create_user", "list_users", "set_user_disabled"]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
SUBJECT = "user"


def create_user(uow: UnitOfWork, caller: Caller, username: str, password: str, role: Role) -> User:
    """A new user of the caller's organisation; weak passwords are refused with the reasons."""
    caller.require_owner()
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidRequest(
            "a username is 2 to 64 lowercase letters, digits and . _ @ -, starting with a "
            "letter or digit"
        )
    problems = password_problems(password, username)
    if problems:
        raise InvalidRequest("the password is refused: " + "; ".join(problems))
    password_hash = hash_password(password)
    with uow:
        if uow.users.by_username(username) is not None:
            raise AlreadyExists(f"a user {username!r} exists already")
        user = User(
            organisation_id=caller.organisation_id,
            username=username,
            password_hash=password_hash,
            role=role.value,
            created_at=uow.now,
            disabled=False,
        )
        uow.users.add(user)
        uow.flush()
        record_event(uow, caller, (SUBJECT, user.id), "UserCreated", f"{username} ({role})")
        uow.commit()
        return user


def list_users(uow: UnitOfWork, caller: Caller) -> list[User]:
    """The organisation's users (never their hashes' contents, though the rows hold them)."""
    caller.require_owner()
    with uow:
        return uow.users.all(caller.organisation_id)


def set_user_disabled(uow: UnitOfWork, caller: Caller, username: str, disabled: bool) -> User:
    """Disable a user (their sessions end at once) or enable them again."""
    caller.require_owner()
    with uow:
        user = uow.users.by_username(username.strip().lower())
        if user is None or user.organisation_id != caller.organisation_id:
            raise NotFound("user", username)
        user.disabled = disabled
        kind = "UserDisabled" if disabled else "UserEnabled"
        record_event(uow, caller, (SUBJECT, user.id), kind, user.username)
        uow.commit()
        return user
