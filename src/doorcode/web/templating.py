"""Rendering pages: one Jinja2 environment (autoescaped, strict), its filters, and ``render``.

Templates only format what they are given: every value comes from a service's read model,
already loaded, so a template never reaches the database. Instants are shown on the wall
clock of the zone passed along with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from doorcode import __version__

__all__ = ["environment", "local", "render"]

STATUS_WORDS = {
    "pending": "pending",
    "waiting_for_lead_time": "waiting for lead time",
    "waiting_for_space": "waiting for space",
    "waiting_for_code": "waiting for the code to be free",
    "not_programmable": "not programmable",
    "setting": "setting",
    "accepted": "accepted, not confirmed by the lock",
    "set": "set",
    "failed": "failed",
    "removing": "removing",
    "removed": "removed",
}


def local(instant: datetime | None, zone: ZoneInfo, style: str = "short") -> str:
    """An instant on ``zone``'s wall clock: ``short`` (Mon 23 Nov 15:00), ``long`` (with the
    year and the zone's abbreviation), ``time``, ``date`` or ``input`` (datetime-local)."""
    if instant is None:
        return "–"
    wall = instant.astimezone(zone)
    formats = {
        "short": "%a %d %b %H:%M",
        "long": "%a %d %b %Y, %H:%M %Z",
        "time": "%H:%M",
        "date": "%a %d %b %Y",
        "input": "%Y-%m-%dT%H:%M",
    }
    return wall.strftime(formats[style])


def _words(value: str) -> str:
    return STATUS_WORDS.get(value, value.replace("_", " "))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("doorcode.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local
    env.filters["words"] = _words
    env.globals["version"] = __version__
    return env


environment = _environment()


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` with ``context``; never cached, since pages hold live state."""
    context.setdefault("session", None)
    context.setdefault("section", "")
    page = environment.get_template(template).render(request=request, **context)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
