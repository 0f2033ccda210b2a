"""The loops ``doorcode serve`` runs beside the API when one process does everything.

Each capability that works in the background (lock sync, feed polling, message delivery) adds
one entry here; ``doorcode worker`` runs the same work as jobs on PostgreSQL instead.
A job is a coroutine function that runs until it is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial
from typing import Any

from doorcode.config import Runner
from doorcode.notify.host_notices import host_notice_loop
from doorcode.notify.loop import MessageLoop
from doorcode.runtime import Runtime
from doorcode.sources.feed_poller import run_feed_poller
from doorcode.sources.push_sender import run_push_sender
from doorcode.store.wal_checkpoints import run_checkpoints
from doorcode.sync.access_poller import run_access_poller
from doorcode.sync.jobs import enqueue_after_commit
from doorcode.sync.reconciler import Reconciler
from doorcode.sync.runner import SyncRunner

__all__ = ["BackgroundJob", "background_jobs"]

BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def background_jobs(runtime: Runtime) -> list[BackgroundJob]:
    """The loops to run in-process for ``runtime``, with their commit hooks installed.

    With ``DOORCODE_RUNNER=worker`` there are none: ``doorcode worker`` processes run every
    loop as jobs (``worker.py``), and ``serve`` only enqueues lock passes after its commits.
    """
    if runtime.settings.runner is Runner.WORKER:
        runtime.commit_hooks.append(enqueue_after_commit(runtime))
        return []
    runner = SyncRunner(
        Reconciler.from_runtime(runtime),
        runtime.clock,
        timedelta(seconds=runtime.settings.sweep_interval),
        timedelta(seconds=runtime.settings.change_watch_interval),
    )
    messages = MessageLoop(runtime)
    runtime.commit_hooks.append(runner.nudge)
    runtime.commit_hooks.append(messages.nudge)
    return [
        partial(run_checkpoints, runtime.engine),  # SQLite's log, beside the writers
        runner.run,
        partial(run_feed_poller, runtime),
        partial(run_push_sender, runtime),
        messages.run,  # guest messages: plan from events, send what is due, at once on a change
        host_notice_loop(runtime),  # what guests told the host from their guidebook
        partial(run_access_poller, runtime),  # access events, lock health, no-shows, purge
    ]
