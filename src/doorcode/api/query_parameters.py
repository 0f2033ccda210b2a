"""One rule for every API route: a query parameter the route does not take is refused.

Ignoring it silently turns a typo into the wrong answer (``?property=bk-loft`` listed every
reservation, because the parameter is ``property_id``). The router runs this dependency before
each of its routes; it reads the names the route declares from FastAPI's own description of
the route, so a new route or parameter needs nothing here.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from doorcode.api.problems import FieldProblem

__all__ = ["refuse_unknown_query_parameters"]


def refuse_unknown_query_parameters(request: Request) -> None:
    """422 naming the first parameter the route does not take, and the ones it does."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "no query parameters"
        raise FieldProblem(
            unknown[0],
            f"unknown query parameter {unknown[0]!r}; this route takes: {takes}",
            error="unknown_query_parameter",
        )


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route takes, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names
