"""The session cookie, and the dependency every dashboard route takes to know who is asking.

The cookie holds the session's secret only (``services.web_sessions`` keeps its hash). It is
HttpOnly (no script reads it), SameSite=Lax (other sites' forms and scripts do not send it)
and Secure whenever the page was served over HTTPS or ``DOORCODE_PUBLIC_URL`` is https.
A request without a live session raises ``SignInRequired``: a page is then redirected to
the sign-in form, and any other method gets a 401. The pages and forms that change something
take ``WriterSessionDep`` (``csrf.CheckedWriterSessionDep`` for a POST) instead: a viewer gets
the 403 page before anything else is read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response

from doorcode.api.auth import runtime_of
from doorcode.runtime import Runtime
from doorcode.services.web_sessions import ActiveSession, SessionPolicy, resume_session

__all__ = [
    "COOKIE",
    "SessionDep",
    "SignInRequired",
    "WriterSessionDep",
    "clear_session_cookie",
    "client_address",
    "current_session",
    "is_secure",
    "optional_session",
    "runtime_of",
    "session_policy",
    "set_session_cookie",
    "writer_session",
]

COOKIE = "doorcode_session"


class SignInRequired(Exception):
    """No live session behind the request."""


def session_policy(runtime: Runtime) -> SessionPolicy:
    """Idle and absolute lifetimes from the settings."""
    settings = runtime.settings
    return SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


def client_address(request: Request) -> str:
    """The peer's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client is not None else "unknown"


def is_secure(request: Request) -> bool:
    """Whether cookies must be Secure: the request came over HTTPS, or the public URL is https."""
    public_url = runtime_of(request).settings.public_url
    return request.url.scheme == "https" or public_url.startswith("https://")


def optional_session(request: Request) -> ActiveSession | None:
    """The live session behind the request's cookie, if any."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    runtime = runtime_of(request)
    return resume_session(runtime.uow(), token, session_policy(runtime))


def current_session(request: Request) -> ActiveSession:
    """The live session, or ``SignInRequired``."""
    found = optional_session(request)
    if found is None:
        raise SignInRequired
    return found


SessionDep = Annotated[ActiveSession, Depends(current_session)]


def writer_session(session: SessionDep) -> ActiveSession:
    """The live session of someone allowed to change things, or ``PermissionDenied`` (403).

    Checked before the route reads anything: a viewer is refused whatever the request holds,
    and never sees a form it could not send.
    """
    session.caller.require_writer()
    return session


WriterSessionDep = Annotated[ActiveSession, Depends(writer_session)]


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Hand the browser its session secret."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Make the browser forget its session secret."""
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )
