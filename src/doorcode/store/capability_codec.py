"""Lock capabilities to and from the JSON kept in ``locks.capabilities``."""

from __future__ import annotations

from typing import Any

from doorcode.domain.code_policy import Alphabet, CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities

__all__ = ["capabilities_from_json", "capabilities_to_json"]


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
