"""What a calendar fetch means for the bookings a feed has seen before: the two-miss rule.

A calendar is not a message but a snapshot, and channels have served broken snapshots: an
empty 200, a truncated file, one booking missing for a poll. Existing tools that cancelled
whatever a snapshot lacked wiped every code of a property on such a day. So:

* a booking is **new** or **changed** when its content differs from what was recorded;
* a booking absent from a good fetch is only **missed**; it is **cancelled** when it has been
  missed by ``MISSES_TO_CANCEL`` good fetches in a row (a fetch in between that shows it
  again resets the count);
* a booking whose stay is over is simply **forgotten** when it leaves the calendar;
* an event the channel marks cancelled is cancelled at once: that is news, not absence.

Only successful, non-empty fetches call ``diff_feed``. An empty body, an error, a timeout or
an unreadable calendar never reach it, so they can never cancel anything. And a fetch that
proves nothing about absence (``counts_absence=False``: a 304 or a body byte-for-byte the
same as last time, which repeat an earlier fetch, or a calendar without one readable
booking, which may be a channel's broken export) still records what it shows and applies
the cancellations it states, but counts nobody missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field

__all__ = ["MISSES_TO_CANCEL", "FeedDiff", "Remembered", "diff_feed"]

MISSES_TO_CANCEL = 2


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the feed said about a booking last time, and what became of it since."""

    fingerprint: str
    missing: int = 0
    cancelled: bool = False
    over: bool = False


@dataclass(frozen=True, slots=True)
class FeedDiff:
    """What to do after one good fetch, by booking key."""

    record: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    missed: Mapping[str, int] = field(default_factory=dict)
    reset: tuple[str, ...] = ()
    forget: tuple[str, ...] = ()


def diff_feed(
    remembered: Mapping[str, Remembered],
    bookings: Mapping[str, str],
    present: Set[str],
    cancelled: Set[str] = frozenset(),
    *,
    counts_absence: bool = True,
) -> FeedDiff:
    """Compare a good fetch with what the feed remembers.

    ``bookings`` maps the keys of the bookings worth recording to their content
    fingerprints; ``present`` holds every key the calendar still shows in any form (blocks,
    events too far ahead or unreadable included), so none of those counts as missing;
    ``cancelled`` holds the keys the calendar itself marks cancelled. Without
    ``counts_absence`` a key the fetch lacks is left exactly as it was.
    """
    record = [
        key
        for key, fingerprint in bookings.items()
        if key not in remembered
        or remembered[key].fingerprint != fingerprint
        or remembered[key].cancelled
    ]
    cancel, forget, reset = [], [], []
    missed: dict[str, int] = {}
    for key, known in remembered.items():
        seen = key in present or key in bookings
        if key in cancelled:
            if not known.cancelled:
                cancel.append(key)
        elif seen:
            if known.missing and key not in record:
                reset.append(key)
        elif not counts_absence:
            continue
        elif known.over:
            forget.append(key)
        elif known.cancelled:
            continue
        elif known.missing + 1 >= MISSES_TO_CANCEL:
            cancel.append(key)
        else:
            missed[key] = known.missing + 1
    return FeedDiff(tuple(record), tuple(cancel), missed, tuple(reset), tuple(forget))
