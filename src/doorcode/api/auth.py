"""API-key authentication: ``Authorization: Bearer dck_...`` or ``X-API-Key: dck_...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from doorcode.runtime import Runtime
from doorcode.services.api_keys import authenticate
from doorcode.services.caller import Caller

__all__ = ["CallerDep", "NotAuthenticated", "RuntimeDep"]

bearer = HTTPBearer(auto_error=False, description="An API key from `doorcode apikey create`.")
header_key = APIKeyHeader(name="X-API-Key", auto_error=False)


class NotAuthenticated(Exception):
    """No key, or a key that is unknown, malformed or revoked (deliberately not saying which)."""


def runtime_of(request: Request) -> Runtime:
    """The runtime the application was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def authenticated_caller(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(header_key)],
) -> Caller:
    """The caller behind the presented key; 401 otherwise."""
    presented = credentials.credentials if credentials is not None else api_key
    caller = authenticate(runtime.uow(), presented) if presented else None
    if caller is None:
        raise NotAuthenticated
    return caller


CallerDep = Annotated[Caller, Depends(authenticated_caller)]
