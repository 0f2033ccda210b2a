"""Choosing a fresh code that no overlapping grant on a shared lock already uses.

Codes are drawn at random (the caller passes ``secrets.SystemRandom()`` in production), so a
guest cannot predict the next guest's code. When the code space is nearly full, random draws
keep colliding; after a bounded number of misses the allocator enumerates every acceptable free
code and picks one uniformly, so it still succeeds while a single code is free, and says so
clearly (``CodeSpaceExhausted``) when none is: it never hands out a duplicate.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from functools import lru_cache
from random import Random

from doorcode.domain.code_policy import CodePolicy
from doorcode.domain.errors import CodeSpaceExhausted

__all__ = ["RANDOM_DRAWS", "TakenCodes", "acceptable_codes", "allocate_code"]

RANDOM_DRAWS = 64
"""Random draws before falling back to enumeration; at 64 misses the space is nearly full."""

_ENUMERABLE_SPACE = 2_000_000
"""Largest space worth listing; beyond it, a miss rate this high means impossible rules."""

_DRAWS_IN_LARGE_SPACES = 20_000


class TakenCodes:
    """The codes already in use where a new code would go, with fast conflict checks.

    On a prefix-free keypad a candidate also conflicts when it is a prefix of a taken code
    (typing it would open for the other guest first) or a taken code is a prefix of it.
    """

    def __init__(self, codes: Collection[str], prefix_free: bool) -> None:
        self._codes = frozenset(codes)
        self._prefix_free = prefix_free
        self._prefixes = frozenset(_all_prefixes(self._codes)) if prefix_free else frozenset()

    def __len__(self) -> int:
        return len(self._codes)

    def conflicts_with(self, candidate: str) -> bool:
        """Whether ``candidate`` would clash with a code already in use."""
        if candidate in self._codes:
            return True
        if not self._prefix_free:
            return False
        if candidate in self._prefixes:
            return True
        return any(candidate[:cut] in self._codes for cut in range(1, len(candidate)))


def allocate_code(policy: CodePolicy, taken: TakenCodes, rng: Random) -> str:
    """A code that ``policy`` accepts and ``taken`` does not conflict with."""
    draws = RANDOM_DRAWS if _space_size(policy) <= _ENUMERABLE_SPACE else _DRAWS_IN_LARGE_SPACES
    for _ in range(draws):
        candidate = "".join(rng.choice(policy.symbols) for _ in range(policy.length))
        if policy.accepts(candidate) and not taken.conflicts_with(candidate):
            return candidate
    if _space_size(policy) > _ENUMERABLE_SPACE:
        raise CodeSpaceExhausted("the code rules leave almost no acceptable code")
    free = [code for code in acceptable_codes(policy) if not taken.conflicts_with(code)]
    if not free:
        raise CodeSpaceExhausted(
            f"all {len(acceptable_codes(policy))} acceptable codes are in use for this window"
        )
    return free[rng.randrange(len(free))]


@lru_cache(maxsize=64)
def acceptable_codes(policy: CodePolicy) -> tuple[str, ...]:
    """Every code ``policy`` accepts, in order; only for spaces small enough to list."""
    symbol_tuples = itertools.product(policy.symbols, repeat=policy.length)
    return tuple(code for code in map("".join, symbol_tuples) if policy.accepts(code))


def _space_size(policy: CodePolicy) -> int:
    return int(len(policy.symbols) ** policy.length)


def _all_prefixes(codes: Collection[str]) -> Iterator[str]:
    for code in codes:
        for cut in range(1, len(code) + 1):
            yield code[:cut]
