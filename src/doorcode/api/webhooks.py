"""``POST /webhooks/reservations/{source_id}``: reservations pushed by a PMS or a script.

Authenticated by the source's secret (HMAC signature, Svix signature or basic auth, by kind),
never by an API key. The body is read raw, because the signature covers its exact bytes, and
processing runs in a worker thread like every other route. Refusals answer with the usual
error shape plus the id of the stored delivery:

    401 invalid_signature, missing_signature, timestamp_out_of_window, invalid_credentials...
    404 not_found (no such source: nothing is stored, there is no organisation to store it in)
    409 replayed_delivery, code_space_exhausted
    413 body_too_large
    422 invalid_json, invalid_payload, unknown_property, unknown_status, invalid_window
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from doorcode.api.auth import runtime_of
from doorcode.api.problems import problem
from doorcode.api.source_bodies import DeliveryAnswer, delivery_answer
from doorcode.sources.deliveries import DeliveryRefused, InboundRequest, receive_delivery
from doorcode.sources.errors import (
    BodyTooLarge,
    CannotRecord,
    ReplayedDelivery,
    SignatureRejected,
    SourceError,
)
from doorcode.sources.webhook_payload import ReservationPayloadV1

__all__ = ["install", "router"]

router = APIRouter(tags=["webhooks"])

STATUS_OF: list[tuple[type[SourceError], int]] = [
    (SignatureRejected, 401),
    (ReplayedDelivery, 409),
    (CannotRecord, 409),
    (BodyTooLarge, 413),
    (SourceError, 422),
]
SIGNATURE_HEADERS = [
    ("X-Doorcode-Timestamp", "Unix seconds when the request was signed (generic sources)."),
    ("X-Doorcode-Delivery", "The sender's id for this delivery (generic sources)."),
    ("X-Doorcode-Signature", "sha256=<hex HMAC-SHA256(secret, '<timestamp>.' + body)>."),
]


@router.post(
    "/webhooks/reservations/{source_id}",
    summary="Receive a reservation from a source",
    responses={
        401: {"description": "The request did not prove it came from the source"},
        404: {"description": "No such source"},
        409: {"description": "A replayed delivery, or no free code for the booking"},
        413: {"description": "Body over 1 MiB"},
        422: {"description": "Not JSON, or not a reservation doorcode can record"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A generic v1 body; Hostaway and Guesty sources send their own.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ReservationPayloadV1"}
                }
            },
        },
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": description,
            }
            for name, description in SIGNATURE_HEADERS
        ],
    },
)
async def receive_reservation(source_id: str, request: Request) -> DeliveryAnswer:
    """Record a booking from a source: created, changed, confirmed or cancelled."""
    runtime = runtime_of(request)
    try:
        body, too_large = await request.body(), False
    except HTTPException as err:
        if err.status_code != 413:
            raise
        body, too_large = b"", True
    headers = {name.lower(): value for name, value in request.headers.items()}
    inbound = InboundRequest(body, headers, too_large)
    result = await anyio.to_thread.run_sync(
        receive_delivery, runtime.uow(), source_id, inbound, limiter=_writers(request)
    )
    return delivery_answer(result)


def _writers(request: Request) -> anyio.CapacityLimiter:
    """How many deliveries one process applies at once.

    SQLite has one writer at a time; threads that queue inside SQLite wait in its busy
    handler, which sleeps in growing steps and leaves the database idle between them. Queuing
    them here instead keeps it busy and the latency fair. PostgreSQL writers run side by side.
    """
    limiter: anyio.CapacityLimiter = request.app.state.webhook_writers
    return limiter


def install(app: FastAPI) -> None:
    """Add the webhook route, its error answers and its body's schema to ``app``."""
    sqlite = app.state.runtime.engine.dialect.name == "sqlite"
    app.state.webhook_writers = anyio.CapacityLimiter(1 if sqlite else 16)
    app.include_router(router)
    app.add_exception_handler(DeliveryRefused, _refused)
    app.openapi = _with_payload_schema(app, app.openapi)  # type: ignore[method-assign]


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeliveryRefused)
    error = exc.error
    status = next(code for kind, code in STATUS_OF if isinstance(error, kind))
    extra: dict[str, Any] = {"delivery_id": exc.delivery_id}
    if error.fields:
        extra["fields"] = error.fields
    return problem(status, error.reason, error.message, **extra)


def _with_payload_schema(
    app: FastAPI, original: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """The route reads its body raw, so FastAPI cannot see the model; add it by hand."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        payload = ReservationPayloadV1.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(payload.pop("$defs", {}))
        components["ReservationPayloadV1"] = payload
        return schema

    return openapi
