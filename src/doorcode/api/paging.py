"""Paging parameters shared by the list routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

__all__ = ["PageLimit", "PageOffset"]

PageLimit = Annotated[int, Query(ge=1, le=1000, description="How many items at most.")]
PageOffset = Annotated[int, Query(ge=0, le=10_000_000, description="How many items to skip.")]
