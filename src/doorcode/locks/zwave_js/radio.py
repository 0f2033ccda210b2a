"""The one place every Z-Wave command doorcode sends is counted: the radio budget.

A battery lock pays for every frame it hears, so the adapter sends nothing that is not
counted here first, and tests and ``bench/radio.py`` read the counts (per server, node and
kind) to hold the budget: at most two writes and two single-slot reads per stay, nothing in
steady state, no full read after the first inventory.
"""

from __future__ import annotations

import enum
import threading
from collections import Counter

__all__ = ["RADIO", "RadioKind", "RadioLog"]


class RadioKind(enum.StrEnum):
    """What a command asks of the lock."""

    WRITE = "write"
    """User Code Set (a code, or a clear)."""
    READ = "read"
    """User Code Get of one slot (a confirmation, or the first inventory)."""
    PING = "ping"
    """A no-operation frame to a node the driver marked dead, before writing to it."""


class RadioLog:
    """Counts of commands sent, by (server URL, node id, kind); only ever grows."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int, RadioKind]] = Counter()
        self._guard = threading.Lock()

    def count(self, url: str, node_id: int, kind: RadioKind) -> None:
        """One command is about to be sent."""
        with self._guard:
            self._counts[(url, node_id, kind)] += 1

    def snapshot(self) -> Counter[tuple[str, int, RadioKind]]:
        """A copy of the counts so far (subtract two snapshots for what happened between)."""
        with self._guard:
            return Counter(self._counts)

    def total(self, kind: RadioKind, url: str | None = None) -> int:
        """Commands of ``kind`` sent so far, to one server or to every one."""
        with self._guard:
            return sum(n for (u, _, k), n in self._counts.items() if k is kind and url in (None, u))


RADIO = RadioLog()
"""The process's count of Z-Wave commands (a metric, like a Prometheus counter)."""
