"""Cross-site request forgery: every state-changing form carries a token the session issued.

Signed-in forms use the synchronizer pattern: the session row holds a random token, each
page puts it in a hidden ``csrf_token`` field, and a POST whose field does not match is
refused with 403 before anything else runs. The sign-in form has no session yet, so it
uses a double-submit cookie instead: a random value in a SameSite=Strict, HttpOnly cookie
that the form must repeat. Either way an attacker's page cannot produce the value.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from doorcode.services.web_sessions import ActiveSession
from doorcode.web.sessions import SessionDep, is_secure, writer_session

__all__ = [
    "SIGN_IN_COOKIE",
    "CheckedSessionDep",
    "CheckedWriterSessionDep",
    "CsrfRefused",
    "check_sign_in_token",
    "checked_session",
    "checked_writer_session",
    "new_sign_in_token",
]

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SIGN_IN_COOKIE = "doorcode_sign_in"


class CsrfRefused(Exception):
    """The form's token is missing or does not match."""


async def checked_session(request: Request, session: SessionDep) -> ActiveSession:
    """The session, once the request proved it came from one of its pages."""
    form = await request.form()
    sent = form.get(FIELD) or request.headers.get(HEADER)
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), session.csrf_token.encode()
    ):
        raise CsrfRefused
    return session


# The session of a request that changes something: its CSRF token was checked first.
CheckedSessionDep = Annotated[ActiveSession, Depends(checked_session)]


def checked_writer_session(session: CheckedSessionDep) -> ActiveSession:
    """The checked session of someone allowed to change things: a form's token is checked
    first (a forged form is refused as one), then the role, before the form is read."""
    return writer_session(session)


# The session of a form that changes something: its token checked, then its role.
CheckedWriterSessionDep = Annotated[ActiveSession, Depends(checked_writer_session)]


def new_sign_in_token(request: Request, response: Response) -> str:
    """A fresh double-submit token for the sign-in form, set as its cookie too."""
    token = secrets.token_urlsafe(24)
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=3600,
        path="/sign-in",
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )
    return token


def check_sign_in_token(request: Request, sent: str) -> None:
    """Refuse a sign-in whose form token does not repeat its cookie."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused
