"""The difference between the codes a lock must hold and the codes it holds: a list of actions.

Pure: the planner's desired codes and the provider's list go in, ``Create``/``Update``/
``Delete`` actions come out, deletions first (they free memory for the creations), and an
empty list when the lock already matches (cf. Home Assistant's ``reproduce_state``).

Only codes carrying doorcode's tag are compared; the owner's codes never reach this module.
A code of ours whose PIN was changed by hand, or that the back-end says it could not set
(``FAILED``), is replaced; so is one listed without its digits (a lock that masks PINs) unless
the PIN doorcode last wrote there is the one wanted now, since nothing else shows a PIN
change; one whose window was changed is updated back; a grant found twice
(a crash between creating and recording) keeps one code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorcode.domain.planner import DesiredCode
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import CodeState, ProviderCode
from doorcode.locks.tags import grant_id_from_tag, is_offline_tag

__all__ = ["Action", "Create", "Delete", "Update", "diff", "split_by_owner"]


@dataclass(frozen=True, slots=True)
class Create:
    """Put the grant's code on the lock."""

    desired: DesiredCode
    replacing: bool = False


@dataclass(frozen=True, slots=True)
class Update:
    """Move the window of the grant's code that is on the lock."""

    code_id: str
    desired: DesiredCode


@dataclass(frozen=True, slots=True)
class Delete:
    """Remove a code of ours: its grant is not wanted here now, or it is a stray copy."""

    code_id: str
    grant_id: str
    why: str


Action = Create | Update | Delete


def split_by_owner(
    codes: Iterable[ProviderCode],
) -> tuple[dict[str, list[ProviderCode]], list[ProviderCode]]:
    """Codes doorcode created (by grant id) and codes someone set by hand.

    A vendor offline code doorcode asked for is neither: the lock computes it, so there is
    nothing on the lock to write or remove, and it takes no room.
    """
    ours: dict[str, list[ProviderCode]] = defaultdict(list)
    theirs: list[ProviderCode] = []
    for code in codes:
        if is_offline_tag(code.name):
            continue
        grant_id = grant_id_from_tag(code.name)
        if grant_id is None:
            theirs.append(code)
        else:
            ours[grant_id].append(code)
    return dict(ours), theirs


def diff(
    desired: Sequence[DesiredCode],
    ours: Mapping[str, Sequence[ProviderCode]],
    resolution: timedelta = timedelta(minutes=1),
    written: Mapping[str, str] | None = None,
) -> list[Action]:
    """The actions that make the lock hold exactly ``desired`` among doorcode's codes.

    ``written`` is, by grant id, the PIN doorcode last wrote to this lock (or read back from
    it): a code listed without digits is taken for the grant's PIN only when that is it.
    """
    written = written or {}
    wanted = {code.grant_id: code for code in desired}
    deletes: list[Action] = []
    updates: list[Action] = []
    creates: list[Action] = []
    for grant_id, found in ours.items():
        target = wanted.get(grant_id)
        if target is None:
            deletes += [Delete(code.code_id, grant_id, "no longer wanted") for code in found]
            continue
        keeper = _keeper(found, target, resolution, written.get(grant_id))
        strays = [code for code in found if code is not keeper]
        reason = "a second copy" if keeper is not None else _why_replaced(found)
        deletes += [Delete(code.code_id, grant_id, reason) for code in strays]
        if keeper is None:
            creates.append(Create(target, replacing=True))
        elif not _same_window(keeper, target.window, resolution):
            updates.append(Update(keeper.code_id, target))
    creates += [Create(code) for grant_id, code in wanted.items() if grant_id not in ours]
    return deletes + updates + creates


def _keeper(
    found: Sequence[ProviderCode],
    target: DesiredCode,
    resolution: timedelta,
    written: str | None,
) -> ProviderCode | None:
    """The one code worth keeping: the right PIN, preferably with the right window already.

    A masked code (no digits listed) holds whatever doorcode last wrote there (``written``).
    """
    right_pin = [
        code
        for code in found
        if (code.code if code.code is not None else written) == target.code
        and code.state is not CodeState.FAILED
    ]
    exact = [code for code in right_pin if _same_window(code, target.window, resolution)]
    best = exact or right_pin
    return best[0] if best else None


def _why_replaced(found: Sequence[ProviderCode]) -> str:
    if any(code.state is CodeState.FAILED for code in found):
        return "the back-end could not set it on the lock"
    return "its code was changed"


def _same_window(code: ProviderCode, window: TimeWindow | None, resolution: timedelta) -> bool:
    if window is None:
        return code.starts_at is None and code.ends_at is None
    return _close(code.starts_at, window.starts_at, resolution) and _close(
        code.ends_at, window.ends_at, resolution
    )


def _close(reported: datetime | None, wanted: datetime, resolution: timedelta) -> bool:
    return reported is not None and abs(reported - wanted) < resolution
