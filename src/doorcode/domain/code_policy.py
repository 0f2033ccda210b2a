"""Which codes a lock group accepts: length, alphabet and the rules of every lock in it.

A property chooses a length and an alphabet; each of its locks adds the rules its firmware
enforces (Seam reports them as ``code_constraints``: no zeros, cannot start with 12, at least
three distinct digits, ...). A code for a grant must satisfy the union of all of them, so the
effective policy is computed from the property's wish and the capabilities of the grant's locks.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from doorcode.domain.errors import InvalidCodePolicy

__all__ = [
    "MAX_CODE_LENGTH",
    "MIN_CODE_LENGTH",
    "Alphabet",
    "CodeConstraints",
    "CodePolicy",
]

MIN_CODE_LENGTH = 4
MAX_CODE_LENGTH = 10


class Alphabet(enum.StrEnum):
    """The symbols a keypad offers."""

    NUMERIC = "numeric"
    ALPHANUMERIC = "alphanumeric"

    @property
    def symbols(self) -> str:
        """The symbols codes are drawn from; alphanumeric leaves out O/0 and I/1."""
        if self is Alphabet.NUMERIC:
            return "0123456789"
        return "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class CodeConstraints:
    """Rules a lock's firmware enforces on codes, beyond length and alphabet.

    Each field is one rule; ``union`` combines the rules of several locks so that a code
    satisfying the result is accepted by every one of them.
    """

    no_zeros: bool = False
    forbidden_prefixes: frozenset[str] = field(default_factory=frozenset)
    forbidden_substrings: frozenset[str] = field(default_factory=frozenset)
    min_distinct_symbols: int = 1
    no_all_same: bool = False
    no_sequence: bool = False
    no_triple_run: bool = False

    def union(self, other: CodeConstraints) -> CodeConstraints:
        """The rules of both: a code passing the result passes each."""
        return CodeConstraints(
            no_zeros=self.no_zeros or other.no_zeros,
            forbidden_prefixes=self.forbidden_prefixes | other.forbidden_prefixes,
            forbidden_substrings=self.forbidden_substrings | other.forbidden_substrings,
            min_distinct_symbols=max(self.min_distinct_symbols, other.min_distinct_symbols),
            no_all_same=self.no_all_same or other.no_all_same,
            no_sequence=self.no_sequence or other.no_sequence,
            no_triple_run=self.no_triple_run or other.no_triple_run,
        )

    def violations(self, code: str) -> list[str]:
        """Why ``code`` breaks these rules, in words safe to show (they never repeat the code)."""
        checks = [
            (self.no_zeros and "0" in code, "contains a zero"),
            (_starts_with_any(code, self.forbidden_prefixes), "starts with a forbidden prefix"),
            (_contains_any(code, self.forbidden_substrings), "contains a forbidden sequence"),
            (len(set(code)) < self.min_distinct_symbols, "has too few distinct symbols"),
            (self.no_all_same and len(set(code)) == 1, "repeats one symbol throughout"),
            (self.no_sequence and _is_sequence(code), "is an ascending or descending run"),
            (self.no_triple_run and _has_triple_run(code), "has three repeated or consecutive"),
        ]
        return [reason for failed, reason in checks if failed]


@dataclass(frozen=True, slots=True)
class CodePolicy:
    """Everything a code must satisfy on a set of locks.

    ``prefix_free`` is set when one of the locks has no enter key: such a keypad opens as soon
    as the digits typed so far match a code, so no active code may be a prefix of another.
    """

    length: int = 6
    alphabet: Alphabet = Alphabet.NUMERIC
    constraints: CodeConstraints = field(default_factory=CodeConstraints)
    prefix_free: bool = False

    def __post_init__(self) -> None:
        if not MIN_CODE_LENGTH <= self.length <= MAX_CODE_LENGTH:
            raise InvalidCodePolicy(
                f"code length must be between {MIN_CODE_LENGTH} and {MAX_CODE_LENGTH}"
            )

    @property
    def symbols(self) -> str:
        """The symbols codes are drawn from, after the no-zeros rule."""
        symbols = self.alphabet.symbols
        return symbols.replace("0", "") if self.constraints.no_zeros else symbols

    def violations(self, code: str) -> list[str]:
        """Why ``code`` breaks this policy (empty when it is acceptable)."""
        reasons = []
        if len(code) != self.length:
            reasons.append(f"must be {self.length} characters long")
        if any(symbol not in self.alphabet.symbols for symbol in code):
            reasons.append(f"must use only {self.alphabet.value} symbols")
        return reasons + self.constraints.violations(code)

    def accepts(self, code: str) -> bool:
        """Whether ``code`` satisfies this policy."""
        return not self.violations(code)

    def restricted_to(self, constraints: Iterable[CodeConstraints]) -> CodePolicy:
        """This policy with the rules of further locks added."""
        merged = self.constraints
        for more in constraints:
            merged = merged.union(more)
        return CodePolicy(self.length, self.alphabet, merged, self.prefix_free)


def _starts_with_any(code: str, prefixes: frozenset[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def _contains_any(code: str, fragments: frozenset[str]) -> bool:
    return any(fragment in code for fragment in fragments)


def _steps(code: str) -> list[int]:
    return [ord(after) - ord(before) for before, after in itertools.pairwise(code)]


def _is_sequence(code: str) -> bool:
    """1234 or 9876: every step is +1, or every step is -1 (digits only)."""
    steps = _steps(code)
    return code.isdigit() and len(steps) > 0 and (set(steps) in ({1}, {-1}))


def _has_triple_run(code: str) -> bool:
    """Three symbols in a row that repeat (777) or count (345, 543)."""
    steps = _steps(code)
    pairs = itertools.pairwise(steps)
    return any(
        first == second and (first == 0 or code.isdigit()) and abs(first) <= 1
        for first, second in pairs
    )
