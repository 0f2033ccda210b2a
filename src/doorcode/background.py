"""The loops ``doorcode serve`` runs beside the API when one process does everything.

Each capability that works in the background (lock sync, feed polling, message delivery) adds
one entry here; ``doorcode worker`` runs the same work as jobs on PostgreSQL instead.
A job is a coroutine function that runs until it is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from doorcode.bootstrap import Runtime
from doorcode.notify.loop import message_loop

__all__ = ["BackgroundJob", "background_jobs"]

BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def background_jobs(runtime: Runtime) -> list[BackgroundJob]:
    """The loops to run in-process for ``runtime``."""
    jobs: list[BackgroundJob] = []
    jobs.append(message_loop(runtime))  # guest messages: plan from events, send what is due
    return jobs
