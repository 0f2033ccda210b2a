"""Python's cyclic garbage collector: off while a command starts, on for one that keeps running.

A command is a short process that builds several hundred thousand objects while it imports
(SQLAlchemy, pydantic, the models) and frees almost none of them; the collector's passes over
them cost about a tenth of a listing's start. So the console entry point pauses it, and the
commands that run for hours (``serve``, ``demo``, ``worker``) resume it before they start work.
"""

from __future__ import annotations

import gc

__all__ = ["pause_collector", "resume_collector"]


def pause_collector() -> None:
    """No cyclic collection until ``resume_collector``; reference counting still frees."""
    gc.disable()


def resume_collector() -> None:
    """Collect cycles again, for a process that runs for hours.

    What start-up built (modules, classes, the ORM's mappers) lives as long as the process:
    frozen, the collector never walks it again.
    """
    gc.freeze()
    gc.enable()
