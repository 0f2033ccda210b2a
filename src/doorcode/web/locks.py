"""Locks: list (with where their codes stand), detail, add, edit, and the virtual keypad."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.code_policy import MAX_CODE_LENGTH, MIN_CODE_LENGTH, Alphabet
from doorcode.domain.errors import DomainError
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.services import locks
from doorcode.services.dashboard import lock_page
from doorcode.services.errors import InvalidRequest, ServiceError
from doorcode.services.keypad import enter_on_keypad
from doorcode.services.lock_sync import sync_summaries
from doorcode.services.offline_lock_codes import is_offline_only
from doorcode.services.web_sessions import ActiveSession
from doorcode.store.access_repository import AccessEventFilter
from doorcode.store.capability_codec import capabilities_from_json
from doorcode.sync.access_poller import poll_lock
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.web.battery_chart import render_battery
from doorcode.web.csrf import CheckedSessionDep, CheckedWriterSessionDep
from doorcode.web.forms import Form, read_form
from doorcode.web.routing import PageRoute, reason_on_form
from doorcode.web.sessions import SessionDep, WriterSessionDep, runtime_of
from doorcode.web.templating import render
from doorcode.web.timeline import DEFAULT_DAYS, render_timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/locks")
def lock_list(request: Request, session: SessionDep) -> Response:
    """Every lock, its properties, its last sync and how its codes stand."""
    runtime = runtime_of(request)
    found = locks.list_locks(runtime.uow(), session.caller)
    summaries = sync_summaries(runtime.uow(), session.caller)
    return render(
        request,
        "locks.html",
        session=session,
        section="locks",
        rows=found,
        summaries=summaries,
        summary_of=_capability_summary,
        offline_only={lock.id for lock in found if is_offline_only(lock)},
    )


@router.get("/locks/new")
def new_lock(request: Request, session: WriterSessionDep) -> Response:
    """The form for a new lock."""
    return _form(request, session, _values(LockCapabilities(), name="", provider="virtual"))


@router.post("/locks")
async def add_lock(request: Request, session: CheckedWriterSessionDep) -> Response:
    """Record the lock; a virtual one gets its simulated device at once."""
    form = await read_form(request)
    runtime = runtime_of(request)
    try:
        details = locks.LockDetails(
            name=form.text("name", required=True, most=200),
            provider=form.choice("provider", runtime.providers.kinds, "virtual"),
            external_id=form.text("external_id", most=200) or None,
            capabilities=_capabilities(form, LockCapabilities()),
        )
        lock = locks.add_lock(runtime.uow(), session.caller, details)
    except (ServiceError, DomainError) as err:
        return _form(request, session, _echo(form), error=reason_on_form(err), status=422)
    install_virtual_locks(runtime)
    return RedirectResponse(f"/locks/{lock.id}", status_code=303)


@router.get("/locks/{lock_id}")
def lock_detail(
    request: Request,
    lock_id: str,
    session: SessionDep,
    outcome: str = "",
    since: str = "",
) -> Response:
    """A lock: capabilities, health, each grant's code on it, its timeline, its access log
    (filtered by outcome and first day), and its keypad."""
    return _lock_page(request, session, lock_id, log=(outcome, since))


@router.get("/locks/{lock_id}/edit")
def edit_lock(request: Request, lock_id: str, session: WriterSessionDep) -> Response:
    """The lock's name and capabilities, to change."""
    lock = locks.find_lock(runtime_of(request).uow(), session.caller, lock_id)
    values = _values(
        capabilities_from_json(lock.capabilities), name=lock.name, provider=lock.provider
    )
    return _form(request, session, values, lock_id=lock.id)


@router.post("/locks/{lock_id}/edit")
async def change_lock(request: Request, lock_id: str, session: CheckedWriterSessionDep) -> Response:
    """Save a new name or corrected capabilities."""
    runtime = runtime_of(request)
    # Another organisation's lock is not found before the form is read, whatever it holds.
    current = locks.find_lock(runtime.uow(), session.caller, lock_id)
    form = await read_form(request)
    try:
        capabilities = _capabilities(form, capabilities_from_json(current.capabilities))
        name = form.text("name", required=True, most=200)
        locks.change_lock(runtime.uow(), session.caller, lock_id, name, capabilities)
    except (ServiceError, DomainError) as err:
        reason = reason_on_form(err)
        return _form(request, session, _echo(form), lock_id=lock_id, error=reason, status=422)
    install_virtual_locks(runtime)
    return RedirectResponse(f"/locks/{lock_id}", status_code=303)


@router.post("/locks/{lock_id}/keypad")
async def type_code(request: Request, lock_id: str, session: CheckedSessionDep) -> Response:
    """Type a code on a virtual lock's keypad and see whether the door opens."""
    form = await read_form(request)
    runtime = runtime_of(request)
    code = form.text("code", required=True)[:16].upper()
    result = enter_on_keypad(runtime.uow(), session.caller, runtime.providers, lock_id, code)
    lock = locks.find_lock(runtime.uow(), session.caller, lock_id)
    await poll_lock(runtime, lock.id)  # the entry shows in the access log at once
    answer = "OPEN" if result.opened else "REFUSED"
    return _lock_page(request, session, lock_id, keypad=f"{answer}: {result.reason}")


def _lock_page(
    request: Request,
    session: ActiveSession,
    lock_id: str,
    keypad: str = "",
    log: tuple[str, str] = ("", ""),
) -> Response:
    runtime = runtime_of(request)
    outcome, since = log
    which, since_day = _log_filter(outcome, since)
    page = lock_page(runtime.uow(), session.caller, lock_id, DEFAULT_DAYS, which, since_day)
    now = runtime.clock()
    chart = render_timeline(
        page.timeline, span=page.span, now=now, zone=page.zone, label=page.lock.name
    )
    threshold = runtime.settings.battery_alert_percent
    battery = render_battery(
        page.battery, now=now, zone=page.zone, threshold=threshold, label=page.lock.name
    )
    return render(
        request,
        "lock.html",
        session=session,
        section="locks",
        page=page,
        chart=chart,
        battery_chart=battery,
        battery_threshold=threshold,
        log_outcome=which.outcome or "",
        log_since=since_day.isoformat() if since_day else "",
        keypad=keypad,
        virtual=page.lock.provider == "virtual",
    )


def _log_filter(outcome: str, since: str) -> tuple[AccessEventFilter, date | None]:
    """The access log's filters from the query: a bad one is a 422 that says which."""
    if outcome not in ("", "opened", "refused"):
        raise InvalidRequest("the access log shows 'opened', 'refused' or everything")
    which = AccessEventFilter(outcome=outcome or None, limit=200)
    if not since:
        return which, None
    try:
        return which, date.fromisoformat(since)
    except ValueError as err:
        raise InvalidRequest(f"{since[:20]!r} is not a date like 2026-12-24") from err


def _capabilities(form: Form, current: LockCapabilities) -> LockCapabilities:
    """The form's capabilities; code rules the form does not show are kept as they were.

    The form shows the code lengths only as the shortest and the longest, so the lengths
    stored are kept as they are unless one of those two changed: a lock that takes 4 or 6
    symbols (set through the API) must not start taking 5 because it was renamed.
    """
    shortest = form.number("min_length", low=MIN_CODE_LENGTH, high=MAX_CODE_LENGTH)
    longest = form.number("max_length", low=MIN_CODE_LENGTH, high=MAX_CODE_LENGTH)
    if shortest > longest:
        raise InvalidRequest("the shortest code length is longer than the longest")
    lengths = current.code_lengths
    if (shortest, longest) != (min(lengths), max(lengths)):
        lengths = frozenset(range(shortest, longest + 1))
    return LockCapabilities(
        code_lengths=lengths,
        alphabet=Alphabet(form.choice("alphabet", [a.value for a in Alphabet], "numeric")),
        constraints=current.constraints,
        max_codes=form.optional_number("max_codes", low=1, high=10_000),
        native_scheduling=form.checked("native_scheduling"),
        online=form.checked("online"),
        offline_codes=form.checked("offline_codes"),
        enter_key=form.checked("enter_key"),
    )


def _values(capabilities: LockCapabilities, **extra: str) -> dict[str, Any]:
    return {
        **extra,
        "external_id": "",
        "min_length": min(capabilities.code_lengths),
        "max_length": max(capabilities.code_lengths),
        "alphabet": capabilities.alphabet.value,
        "max_codes": capabilities.max_codes or "",
        "native_scheduling": capabilities.native_scheduling,
        "online": capabilities.online,
        "offline_codes": capabilities.offline_codes,
        "enter_key": capabilities.enter_key,
    }


def _echo(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: form.typed(name)
        for name in ("name", "provider", "external_id", "min_length", "max_length", "alphabet")
    }
    values["max_codes"] = form.typed("max_codes")
    for name in ("native_scheduling", "online", "offline_codes", "enter_key"):
        values[name] = form.checked(name)
    return values


def _form(
    request: Request,
    session: ActiveSession,
    values: dict[str, Any],
    *,
    lock_id: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    return render(
        request,
        "lock_form.html",
        status=status,
        session=session,
        section="locks",
        values=values,
        lock_id=lock_id,
        providers=runtime.providers.kinds,
        alphabets=[a.value for a in Alphabet],
        lengths=(MIN_CODE_LENGTH, MAX_CODE_LENGTH),
        error=error,
    )


def _capability_summary(capabilities: dict[str, Any]) -> str:
    parsed = capabilities_from_json(capabilities)
    lengths = sorted(parsed.code_lengths)
    span = f"{lengths[0]}–{lengths[-1]}" if len(lengths) > 1 else str(lengths[0])
    network = "online" if parsed.online else "offline"
    return f"{span} digits, {network}" + (", offline codes" if parsed.offline_codes else "")
