"""Error answers: every failure is JSON with a machine-readable ``error`` and a human ``message``.

    {"error": "invalid_window", "message": "check-out must be after check-in",
     "fields": [{"field": "check_out", "message": "..."}]}

Domain and service exceptions are mapped here, at the edge, and nowhere else.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from doorcode.domain.errors import (
    CodeClash,
    CodeSpaceExhausted,
    DomainError,
    InstantOutOfRange,
)
from doorcode.domain.reservations import CONTACT_PATTERN_WORDS
from doorcode.services.errors import (
    AlreadyExists,
    BackEndFailed,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from doorcode.services.lock_removal import LockUnreachable

__all__ = [
    "ERROR_RESPONSES",
    "FieldProblem",
    "ProblemBody",
    "install_problem_handlers",
    "problem",
]

STATUS_OF: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (PermissionDenied, 403),
    (AlreadyExists, 409),
    (CodeClash, 409),
    (CodeSpaceExhausted, 409),
    (LockUnreachable, 409),
    (InvalidRequest, 422),
    (DomainError, 422),
    (BackEndFailed, 502),
]


class FieldProblemBody(BaseModel):
    """One invalid field."""

    field: str
    message: str


class ProblemBody(BaseModel):
    """Every error answer: a machine-readable ``error`` and a human ``message``."""

    error: str = Field(examples=["not_found"])
    message: str
    fields: list[FieldProblemBody] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemBody, "description": "No valid API key"},
    403: {"model": ProblemBody, "description": "The key's role does not allow this"},
    404: {"model": ProblemBody, "description": "Nothing by that reference in your organisation"},
    409: {"model": ProblemBody, "description": "A clash with what is stored"},
    413: {"model": ProblemBody, "description": "The body is over 1 MiB"},
    422: {"model": ProblemBody, "description": "Invalid input; nothing was changed"},
}
"""Declared on every API route so clients (and the OpenAPI fuzz test) know the error shape."""


class FieldProblem(Exception):
    """A bad value in one field of the request body, found after parsing."""

    def __init__(self, field: str, message: str, error: str = "invalid_field") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.error = error


def problem(
    status: int, error: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The JSON answer for a failure."""
    body = {"error": error, "message": message, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every domain, service and validation error to its answer."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(FieldProblem, _field_problem)
    app.add_exception_handler(DomainError, _known_error)
    app.add_exception_handler(ServiceError, _known_error)


async def _known_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS_OF if isinstance(exc, kind))
    if isinstance(exc, InstantOutOfRange):
        fields = [{"field": exc.field, "message": str(exc)}]
        return problem(status, _snake(type(exc).__name__), str(exc), fields=fields)
    return problem(status, _snake(type(exc).__name__), str(exc))


async def _field_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldProblem)
    fields = [{"field": exc.field, "message": exc.message}]
    return problem(422, exc.error, exc.message, fields=fields)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem(422, "invalid_json", "the request body is not valid JSON")
    fields = [
        {
            "field": ".".join(str(part) for part in error["loc"][1:]) or "body",
            "message": _in_words(error),
        }
        for error in errors
    ]
    summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
    return problem(422, "invalid_request", summary, fields=fields)


UNPARSED_BODY = "There was an error parsing the body"

PATTERN_WORDS = {
    **CONTACT_PATTERN_WORDS,
    r"^[0-9]+$": "may hold digits only",
    r"^[0-9A-Z]+$": "may hold digits and capital letters only",
}
"""What a value that missed a pattern should have been, in words: nobody reads a regex."""


def _in_words(error: Any) -> str:
    """Pydantic's message, with patterns and its "Value error, " prefix turned into words."""
    context = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(context.get("pattern")), "is not in the expected form")
    if error.get("type") == "value_error" and "error" in context:
        return str(context["error"])
    return str(error["msg"])


ERROR_OF_STATUS = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == UNPARSED_BODY:
        # FastAPI answers 400 when a JSON body fails in ways other than a syntax error (not
        # UTF-8, too deep to parse); the README promises 422 invalid_json for every such body.
        return problem(422, "invalid_json", "the request body is not valid JSON")
    if exc.status_code == 405:
        return _method_not_allowed(request)
    error = ERROR_OF_STATUS.get(exc.status_code, "http_error")
    response = problem(exc.status_code, error, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _method_not_allowed(request: Request) -> Response:
    """``Allow`` lists every method of every route on the path, not just the first one's.

    Starlette stops at the first route whose path matches, so ``GET /properties/{ref}``
    answered ``Allow: GET`` although PATCH exists. ``OPTIONS`` is answered, with the same list.
    """
    methods = sorted(_methods_at(request) | {"OPTIONS"})
    allow = {"Allow": ", ".join(methods)}
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=allow)
    message = f"{request.method} is not allowed here; use {', '.join(methods)}"
    return problem(405, "method_not_allowed", message, headers=allow)


def _methods_at(request: Request) -> set[str]:
    path = request.scope["path"]
    found: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        methods, template = route.methods, route.path_format or route.path
        if methods and template and compile_path(template)[0].match(path):
            found |= set(methods)
    return found


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
