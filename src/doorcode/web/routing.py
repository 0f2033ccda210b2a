"""Pages answer in HTML: the route class that maps every failure to a page, at the edge.

Dashboard and guidebook routers use ``PageRoute``; a page's handler raises the same
service and domain errors the API maps to JSON (``api/problems.py``), and they become an
error page with the right status here. No session means a redirect to the sign-in form for
a page, or 401 for anything that would change something.

A form that cannot be saved is shown again with the reason (``reason_on_form``), except when
the reason is not in the form: an object not in the caller's organisation (404) or a role
that may not do this (403) answers with that page, as it would without a form.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from doorcode.domain.errors import CodeClash, CodeSpaceExhausted, DomainError
from doorcode.services.errors import (
    AlreadyExists,
    BackEndFailed,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from doorcode.web.csrf import CsrfRefused
from doorcode.web.sessions import SignInRequired
from doorcode.web.templating import render

__all__ = ["PageRoute", "error_page", "reason_on_form"]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

STATUS_OF: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Not allowed"),
    (AlreadyExists, 409, "Already exists"),
    (CodeClash, 409, "Code in use"),
    (CodeSpaceExhausted, 409, "No free code"),
    (BackEndFailed, 502, "The lock back-end failed"),
    (ServiceError, 422, "Cannot do that"),
    (DomainError, 422, "Cannot do that"),
]


class PageRoute(APIRoute):
    """An ``APIRoute`` whose failures are pages, not JSON."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _sign_in_first(request)
            except CsrfRefused:
                message = "This form has expired or did not come from this site. Reload it."
                return error_page(request, 403, "Form refused", message)
            except RequestValidationError as err:
                return error_page(request, 400, "Bad request", _invalid_fields(err))
            except (ServiceError, DomainError) as err:
                status, title = next((s, t) for kind, s, t in STATUS_OF if isinstance(err, kind))
                return error_page(request, status, title, str(err))

        return answer


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """A plain error page."""
    return render(request, "error.html", status=status, title=title, message=message)


def reason_on_form(err: ServiceError | DomainError) -> str:
    """Why a form was refused, to show it again; ``NotFound`` and ``PermissionDenied`` are
    raised on, for ``PageRoute`` to answer 404 or 403.

    Another organisation's property, lock or schedule must answer 404 whether it is in the
    path or in a field, and a viewer 403: shown on the form, either reads as a typing mistake
    (and a form for another organisation's object would come back as if it could be saved).
    """
    if isinstance(err, (NotFound, PermissionDenied)):
        raise err
    return str(err)


def _invalid_fields(err: RequestValidationError) -> str:
    """Which query or form fields were refused and why ("page: ..."), not a vague "missing"."""
    problems = [
        f"{str(problem['loc'][-1]).replace('_', ' ')}: {problem['msg']}"
        for problem in err.errors()
        if problem.get("loc")
    ]
    return "; ".join(problems[:3]) or "Some fields are missing."


def _sign_in_first(request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    return error_page(request, 401, "Signed out", "Your session has ended: sign in again.")
