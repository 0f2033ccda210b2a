"""The guest's guidebook at ``/guide/{token}``: no sign-in, one stay, its codes in their window.

Every link that leads nowhere (unknown, cancelled, long over) gets the same plain page and
counts toward its address's limit; past it, the address gets 429 for a while whatever it
asks. The page is never cached and sends no referrer, so the token does not leak through
the host's own links. The three buttons post back to the same token; a form another site
submits (``Sec-Fetch-Site: cross-site``) is refused, though it would need the token anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from doorcode.domain.messages import ChannelName
from doorcode.notify.channels import available_channel_names
from doorcode.notify.variables import given_name
from doorcode.services.errors import InvalidRequest
from doorcode.services.guidebook import (
    GuideNotFound,
    GuideThrottled,
    open_guidebook,
    report_arrival,
    report_code_problem,
    report_departure,
)
from doorcode.web.guide_words import Words
from doorcode.web.routing import PageRoute, error_page
from doorcode.web.sessions import client_address, runtime_of
from doorcode.web.templating import render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DONE = {
    "arrived": "Thank you! We told your host you have arrived.",
    "left": "Thank you for staying! We told your host you have left.",
    "problem-backup": "We told your host. Please try the backup code below.",
    "problem": "We told your host, who will help you get in. Please call them.",
}


@router.get("/guide/{token}")
def guidebook(request: Request, token: str, done: str = "") -> Response:
    """The guest's page for their stay."""
    runtime = runtime_of(request)
    try:
        view = open_guidebook(runtime.uow(), token, client_address(request))
    except GuideNotFound:
        return _missing(request)
    except GuideThrottled as err:
        return _throttled(request, err)
    words = Words(view.language)
    shown = done if done in DONE else ""
    greeting = given_name(view.guest_name)
    page = render(
        request, "guide.html", view=view, done=shown, token=token, t=words, greeting=greeting
    )
    return _private(page)


@router.post("/guide/{token}/arrived")
def arrived(request: Request, token: str) -> Response:
    """The guest is in."""
    return _act(request, token, lambda: _report(request, token, report_arrival, "arrived"))


@router.post("/guide/{token}/left")
def left(request: Request, token: str) -> Response:
    """The guest has left."""
    return _act(request, token, lambda: _report(request, token, report_departure, "left"))


@router.post("/guide/{token}/code-problem")
def code_problem(request: Request, token: str) -> Response:
    """The code does not open the door: a backup code if there is one, and the host is told."""

    def report() -> str:
        runtime = runtime_of(request)
        channels = available_channel_names(runtime.settings)
        address = client_address(request)
        outcome = report_code_problem(runtime.uow(), token, address, channels)
        return "problem-backup" if outcome.backup_released else "problem"

    return _act(request, token, report)


Reporter = Callable[..., None]


def _report(request: Request, token: str, reporter: Reporter, done: str) -> str:
    runtime = runtime_of(request)
    channels: frozenset[ChannelName] = available_channel_names(runtime.settings)
    reporter(runtime.uow(), token, client_address(request), channels)
    return done


def _act(request: Request, token: str, action: Callable[[], str]) -> Response:
    """Run a guest's report and go back to their page, saying what happened."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return error_page(request, 403, "Refused", "This form must be sent from the guidebook.")
    try:
        done = action()
    except GuideNotFound:
        return _missing(request)
    except GuideThrottled as err:
        return _throttled(request, err)
    except InvalidRequest:
        done = ""
    target = f"/guide/{token}" + (f"?done={done}" if done else "")
    return _private(RedirectResponse(target, status_code=303))


def _missing(request: Request) -> Response:
    """The same plain page for every link that leads nowhere."""
    return _private(render(request, "guide_missing.html", status=404))


def _throttled(request: Request, err: GuideThrottled) -> Response:
    wait = max(1, int((err.until - runtime_of(request).clock()).total_seconds()))
    page = render(request, "guide_missing.html", status=429, throttled=True)
    page.headers["Retry-After"] = str(wait)
    return _private(page)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
