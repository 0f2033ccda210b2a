"""Offline codes: a window goes in, a string of digits comes out, and back again.

    code  = FF1-AES-256(key, tweak, decimal(index, digits))
    index = pack(smallest issuable window covering the requested one)

A lock reverses it: decrypt, refuse an index of ``WINDOW_COUNT`` or more, unpack, compare with
its clock. One window has one code per group, so two grants with the same issued window get
the same code; :meth:`OfflineCodec.issue` takes the codes to avoid (blocked codes, codes of
other grants) and widens the window by one step (an hour, or a day past 32 days) until the
code is free: the cover and at most ``MAX_WIDENINGS`` widenings, 25 windows in all (§4).
Nothing here reads a clock or a random source.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from doorcode.domain.errors import CodeSpaceExhausted
from doorcode.domain.offline.errors import OfflineWindowUnsupported
from doorcode.domain.offline.ff1 import FF1
from doorcode.domain.offline.key_group import KeyGroup
from doorcode.domain.offline.window_packing import (
    WINDOW_COUNT,
    Span,
    cover,
    pack,
    span_of,
    unpack,
    window_of,
)
from doorcode.domain.windows import TimeWindow

__all__ = ["IssuedOfflineCode", "OfflineCodec", "issue_offline_code", "read_offline_code"]

MAX_WIDENINGS = 24


@dataclass(frozen=True, slots=True, repr=False)
class IssuedOfflineCode:
    """A code and the window it really opens, which covers (and may exceed) the request."""

    code: str
    issued: TimeWindow
    requested: TimeWindow

    def __repr__(self) -> str:
        return f"IssuedOfflineCode(code=<masked>, issued={self.issued!r})"


class OfflineCodec:
    """Issues and reads one group's codes; keep one per group and thread to reuse its AES."""

    def __init__(self, group: KeyGroup) -> None:
        self._group = group
        self._cipher = FF1(group.key)
        self._tweak = group.tweak
        self._digits = group.digits

    def __repr__(self) -> str:
        return f"OfflineCodec({self._group!r})"

    @property
    def group(self) -> KeyGroup:
        """The key group whose codes this codec makes and reads."""
        return self._group

    def issue(
        self, requested: TimeWindow, *, avoiding: Container[str] = frozenset()
    ) -> IssuedOfflineCode:
        """The code of the smallest issuable window covering ``requested`` not in ``avoiding``."""
        span = cover(*span_of(requested, self._group.epoch))
        for widenings in range(MAX_WIDENINGS + 1):
            if widenings:
                span = self._widened(span)
            code = self.code_for(pack(span))
            if code not in avoiding:
                return IssuedOfflineCode(code, window_of(span, self._group.epoch), requested)
        raise CodeSpaceExhausted("every nearby window's offline code is taken or blocked")

    def read(self, code: str) -> TimeWindow | None:
        """The window ``code`` carries for this group, or None if it is not one of its codes."""
        index = self.index_of(code)
        return None if index is None else window_of(unpack(index), self._group.epoch)

    def code_for(self, index: int) -> str:
        """The code of the issuable window numbered ``index``."""
        encrypted = self._cipher.encrypt_number(index, self._digits, self._tweak)
        return f"{encrypted:0{self._digits}d}"

    def index_of(self, code: str) -> int | None:
        """The window number ``code`` decrypts to, or None for anything a lock must refuse.

        The ``X >= P`` test is made on the whole decrypted value (up to ``10**n - 1``, more
        than 32 bits hold) before anything could narrow it: §3's 32-bit trap.
        """
        if len(code) != self._digits or not (code.isascii() and code.isdigit()):
            return None
        index = self._cipher.decrypt_number(int(code), self._digits, self._tweak)
        return index if index < WINDOW_COUNT else None

    @staticmethod
    def _widened(span: Span) -> Span:
        try:
            return cover(span.start, span.end + 1)
        except OfflineWindowUnsupported as err:
            raise CodeSpaceExhausted("no longer window is left to move the code to") from err


def issue_offline_code(
    group: KeyGroup, requested: TimeWindow, *, avoiding: Container[str] = frozenset()
) -> IssuedOfflineCode:
    """Issue a code for ``requested`` on every lock of ``group``; see :class:`OfflineCodec`."""
    return OfflineCodec(group).issue(requested, avoiding=avoiding)


def read_offline_code(group: KeyGroup, code: str) -> TimeWindow | None:
    """Which window ``code`` carries for ``group``, for an operator diagnosing a lock."""
    return OfflineCodec(group).read(code)
