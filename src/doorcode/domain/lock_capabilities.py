"""What one lock can do, as its back-end reports it, and the code policy that follows.

Capabilities are facts about the device (its keypad, its memory, its clock), not choices of the
host; a property's code policy must fit inside the capabilities of every lock it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from doorcode.domain.code_policy import Alphabet, CodeConstraints, CodePolicy
from doorcode.domain.errors import InvalidCodePolicy

__all__ = [
    "LockCapabilities",
    "capabilities_from_json",
    "capabilities_to_json",
    "policy_for_locks",
]


@dataclass(frozen=True, slots=True)
class LockCapabilities:
    """The facts about a lock that decide which codes it can hold and when."""

    code_lengths: frozenset[int] = field(default_factory=lambda: frozenset(range(4, 11)))
    alphabet: Alphabet = Alphabet.NUMERIC
    constraints: CodeConstraints = field(default_factory=CodeConstraints)
    max_codes: int | None = None
    native_scheduling: bool = True
    online: bool = True
    offline_codes: bool = False
    enter_key: bool = True

    def accepts_length(self, length: int) -> bool:
        """Whether the keypad takes codes of ``length`` symbols."""
        return length in self.code_lengths

    def accepts_alphabet(self, alphabet: Alphabet) -> bool:
        """Whether the keypad can type every symbol of ``alphabet``."""
        return self.alphabet is Alphabet.ALPHANUMERIC or alphabet is Alphabet.NUMERIC


def policy_for_locks(wanted: CodePolicy, locks: Sequence[LockCapabilities]) -> CodePolicy:
    """The property's wanted policy, tightened by the rules of every lock a grant is for.

    Raises ``InvalidCodePolicy`` when a lock cannot take codes of the wanted length or
    alphabet at all: that is a configuration mistake to fix, not something to work around.
    """
    for lock in locks:
        if not lock.accepts_length(wanted.length):
            raise InvalidCodePolicy(
                f"a lock of this group does not take {wanted.length}-symbol codes"
            )
        if not lock.accepts_alphabet(wanted.alphabet):
            raise InvalidCodePolicy("a lock of this group only takes numeric codes")
    tightened = wanted.restricted_to(lock.constraints for lock in locks)
    prefix_free = wanted.prefix_free or any(not lock.enter_key for lock in locks)
    return CodePolicy(tightened.length, tightened.alphabet, tightened.constraints, prefix_free)


def capabilities_to_json(capabilities: LockCapabilities) -> dict[str, Any]:
    """A JSON-ready dict; sets become sorted lists so the stored form is stable."""
    rules = capabilities.constraints
    return {
        "code_lengths": sorted(capabilities.code_lengths),
        "alphabet": capabilities.alphabet.value,
        "max_codes": capabilities.max_codes,
        "native_scheduling": capabilities.native_scheduling,
        "online": capabilities.online,
        "offline_codes": capabilities.offline_codes,
        "enter_key": capabilities.enter_key,
        "constraints": {
            "no_zeros": rules.no_zeros,
            "forbidden_prefixes": sorted(rules.forbidden_prefixes),
            "forbidden_substrings": sorted(rules.forbidden_substrings),
            "min_distinct_symbols": rules.min_distinct_symbols,
            "no_all_same": rules.no_all_same,
            "no_sequence": rules.no_sequence,
            "no_triple_run": rules.no_triple_run,
        },
    }


def capabilities_from_json(stored: dict[str, Any]) -> LockCapabilities:
    """The capabilities a stored dict describes; missing keys take the defaults."""
    defaults = LockCapabilities()
    rules = stored.get("constraints", {})
    return LockCapabilities(
        code_lengths=frozenset(stored.get("code_lengths", defaults.code_lengths)),
        alphabet=Alphabet(stored.get("alphabet", defaults.alphabet.value)),
        max_codes=stored.get("max_codes", defaults.max_codes),
        native_scheduling=stored.get("native_scheduling", defaults.native_scheduling),
        online=stored.get("online", defaults.online),
        offline_codes=stored.get("offline_codes", defaults.offline_codes),
        enter_key=stored.get("enter_key", defaults.enter_key),
        constraints=CodeConstraints(
            no_zeros=rules.get("no_zeros", False),
            forbidden_prefixes=frozenset(rules.get("forbidden_prefixes", ())),
            forbidden_substrings=frozenset(rules.get("forbidden_substrings", ())),
            min_distinct_symbols=rules.get("min_distinct_symbols", 1),
            no_all_same=rules.get("no_all_same", False),
            no_sequence=rules.get("no_sequence", False),
            no_triple_run=rules.get("no_triple_run", False),
        ),
    )
