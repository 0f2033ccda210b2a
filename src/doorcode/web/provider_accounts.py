"""Provider accounts, for owners: connect (credentials typed, never shown), import, remove."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.services import provider_accounts
from doorcode.services.errors import ServiceError
from doorcode.services.lock_import import ImportReport, import_locks
from doorcode.services.web_sessions import ActiveSession
from doorcode.web.csrf import CheckedSessionDep
from doorcode.web.forms import read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import SessionDep, runtime_of
from doorcode.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/accounts")
def account_list(request: Request, session: SessionDep) -> Response:
    """The organisation's lock back-end accounts (owners only: they hold secrets)."""
    session.caller.require_owner()
    return _page(request, session)


@router.post("/accounts")
async def connect(request: Request, session: CheckedSessionDep) -> Response:
    """Connect an account; each credential the kind needs is a password field."""
    session.caller.require_owner()
    form = await read_form(request)
    runtime = runtime_of(request)
    try:
        kind = form.text("kind")
        empty = provider_accounts.account_request(runtime.providers, kind, "x", {}, {})
        names = [*empty.needed, *empty.optional]
        credentials = {name: form.text(f"credential_{name}") for name in names}
        base_url = form.text("base_url")
        request_ = provider_accounts.account_request(
            runtime.providers,
            kind,
            form.text("label"),
            {name: value for name, value in credentials.items() if value},
            {"base_url": base_url} if base_url else {},
        )
        provider_accounts.connect_account(runtime.uow(), session.caller, request_)
    except ServiceError as err:
        return _page(request, session, error=reason_on_form(err), status=422)
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/{account_id}/import")
async def import_devices(request: Request, account_id: str, session: CheckedSessionDep) -> Response:
    """Pull the account's devices as locks and say what changed."""
    runtime = runtime_of(request)
    report = await import_locks(
        runtime.uow, runtime.providers, runtime.clock, session.caller, account_id
    )
    return _page(request, session, report=report)


@router.post("/accounts/{account_id}/remove")
async def remove(request: Request, account_id: str, session: CheckedSessionDep) -> Response:
    """Forget the account and its credentials (refused while it has locks)."""
    session.caller.require_owner()
    runtime = runtime_of(request)
    try:
        provider_accounts.remove_account(runtime.uow(), session.caller, account_id)
    except ServiceError as err:
        return _page(request, session, error=reason_on_form(err), status=422)
    return RedirectResponse("/accounts", status_code=303)


def _page(
    request: Request,
    session: ActiveSession,
    *,
    error: str | None = None,
    report: ImportReport | None = None,
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    kinds = {kind: runtime.providers.backend(kind) for kind in runtime.providers.kinds}
    return render(
        request,
        "accounts.html",
        status=status,
        session=session,
        section="accounts",
        accounts=provider_accounts.list_accounts(runtime.uow(), session.caller),
        kinds={
            kind: (backend.credential_names, backend.optional_credential_names)
            for kind, backend in kinds.items()
        },
        error=error,
        report=report,
    )
