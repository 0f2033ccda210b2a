"""Signing in and out of the dashboard.

The sign-in form carries a double-submit token (``web.csrf``); a successful sign-in ends
whatever session the browser presented and sets a brand-new session cookie (no fixation),
then sends the browser to ``next`` if that is a path on this site. Failures say only that
the username or the password is wrong; past the limits they say to wait (429).
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.services.web_sessions import (
    MAX_PASSWORD_CHECKED,
    SignInRefused,
    SignInThrottled,
    sign_in,
    sign_out,
)
from doorcode.web.csrf import (
    SIGN_IN_COOKIE,
    CheckedSessionDep,
    check_sign_in_token,
    new_sign_in_token,
)
from doorcode.web.forms import FormProblem, read_form, safe_next
from doorcode.web.routing import PageRoute
from doorcode.web.sessions import (
    COOKIE,
    clear_session_cookie,
    client_address,
    optional_session,
    runtime_of,
    session_policy,
    set_session_cookie,
)
from doorcode.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_USERNAME = 200


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/") -> Response:
    """The sign-in form (a signed-in browser goes straight on)."""
    if optional_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, safe_next(next))


@router.post("/sign-in")
async def sign_in_submit(request: Request) -> Response:
    """Check the credentials and open a fresh session."""
    form = await read_form(request)
    check_sign_in_token(request, form.raw("csrf_token"))  # unchecked: any mismatch is a 403
    target = safe_next(form.raw("next"))
    try:
        username = form.text("username", most=MAX_USERNAME)
        password = form.text("password", most=MAX_PASSWORD_CHECKED)
    except FormProblem as err:
        return _form(request, target, form.typed("username")[:MAX_USERNAME], str(err), 422)
    runtime = runtime_of(request)
    policy = session_policy(runtime)
    try:
        opened = sign_in(
            runtime.uow(),
            username,
            password,
            client_address(request),
            replacing=request.cookies.get(COOKIE),
            policy=policy,
        )
    except SignInThrottled as err:
        seconds = max(1, math.ceil((err.until - runtime.clock()).total_seconds()))
        wait = math.ceil(seconds / 60)
        message = f"Too many failed attempts. Try again in {wait} minute{'s' * (wait > 1)}."
        response = _form(request, target, username, message, status=429)
        response.headers["Retry-After"] = str(seconds)
        return response
    except SignInRefused:
        return _form(request, target, username, "The username or the password is wrong.", 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, opened.token, int(policy.absolute.total_seconds()))
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out_submit(request: Request, _session: CheckedSessionDep) -> Response:
    """End the session here and now."""
    sign_out(runtime_of(request).uow(), request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session_cookie(response, request)
    return response


def _form(
    request: Request, target: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    response = Response()
    token = new_sign_in_token(request, response)
    page = render(
        request,
        "sign_in.html",
        status=status,
        csrf_token=token,
        next=target,
        username=username,
        error=error,
    )
    for value in response.headers.getlist("set-cookie"):
        page.headers.append("set-cookie", value)
    return page
