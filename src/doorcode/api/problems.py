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
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorcode.domain.errors import CodeClash, CodeSpaceExhausted, DomainError
from doorcode.services.errors import (
    AlreadyExists,
    BackEndFailed,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceError,
)

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


def problem(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    """The JSON answer for a failure."""
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every domain, service and validation error to its answer."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(FieldProblem, _field_problem)
    app.add_exception_handler(DomainError, _known_error)
    app.add_exception_handler(ServiceError, _known_error)


async def _known_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS_OF if isinstance(exc, kind))
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
            "message": error["msg"],
        }
        for error in errors
    ]
    summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
    return problem(422, "invalid_request", summary, fields=fields)


ERROR_OF_STATUS = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = ERROR_OF_STATUS.get(exc.status_code, "http_error")
    response = problem(exc.status_code, error, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
