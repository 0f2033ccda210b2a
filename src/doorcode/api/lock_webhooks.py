"""``POST /webhooks/locks/{account_id}``: access events a lock back-end pushes.

Authenticated by the account's webhook secret (the vendor's signature, or TTLock's URL token),
never by an API key:

    200 the events were stored (or had been: a replay stores nothing new)
    401 webhook_refused: the signature or token does not check out, or the body cannot be read
    404 not_found: no such account, or it has no webhook secret
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from doorcode.api.auth import runtime_of
from doorcode.api.problems import problem
from doorcode.locks.errors import WebhookRefused
from doorcode.services.errors import NotFound
from doorcode.services.lock_webhooks import LockWebhook, receive_lock_webhook
from doorcode.sync.access_poller import access_policy

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


class LockWebhookAnswer(BaseModel):
    """What a delivery did."""

    stored: int
    repeated: int
    unknown_device: int


@router.post(
    "/webhooks/locks/{account_id}",
    summary="Receive access events from a lock back-end",
    response_model=LockWebhookAnswer,
    responses={
        401: {"description": "The signature or token does not check out"},
        404: {"description": "No such account, or it takes no webhooks"},
    },
)
async def receive_lock_events(
    account_id: str, request: Request, token: str | None = None
) -> LockWebhookAnswer | JSONResponse:
    """Store the openings and refusals a Seam, Nuki or TTLock account pushed."""
    runtime = runtime_of(request)
    delivery = LockWebhook(dict(request.headers), await request.body(), token)
    policy = access_policy(runtime.settings)
    try:
        report = await anyio.to_thread.run_sync(
            receive_lock_webhook, runtime.uow(), account_id, delivery, policy
        )
    except WebhookRefused as err:
        return problem(401, "webhook_refused", str(err))
    except NotFound as err:
        return problem(404, "not_found", str(err))
    return LockWebhookAnswer(
        stored=report.stored, repeated=report.repeated, unknown_device=report.unknown_device
    )
