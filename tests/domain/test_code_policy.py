"""Code policies: what a lock group accepts, from the property's wish and its locks' rules."""

import pytest

from doorcode.domain.code_policy import Alphabet, CodeConstraints, CodePolicy
from doorcode.domain.errors import InvalidCodePolicy
from doorcode.domain.lock_capabilities import LockCapabilities, policy_for_locks

STRICT = CodeConstraints(
    no_zeros=True,
    forbidden_prefixes=frozenset({"12"}),
    min_distinct_symbols=3,
    no_all_same=True,
    no_sequence=True,
    no_triple_run=True,
)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("4056", "contains a zero"),
        ("1259", "starts with a forbidden prefix"),
        ("4454", "has too few distinct symbols"),
        ("7777", "repeats one symbol throughout"),
        ("3456", "is an ascending or descending run"),
        ("9876", "is an ascending or descending run"),
        ("5777", "has three repeated or consecutive"),
        ("8345", "has three repeated or consecutive"),
    ],
)
def test_each_lock_rule_rejects_its_codes_with_a_reason(code, reason):
    assert reason in CodePolicy(4, constraints=STRICT).violations(code)


def test_a_code_passing_every_rule_is_accepted():
    assert CodePolicy(4, constraints=STRICT).accepts("4729")


def test_length_and_alphabet_are_checked():
    policy = CodePolicy(6)
    assert policy.violations("12345") == ["must be 6 characters long"]
    assert "must use only numeric symbols" in policy.violations("12A456")


def test_alphanumeric_alphabet_has_no_ambiguous_symbols():
    symbols = Alphabet.ALPHANUMERIC.symbols
    assert not set("O0I1") & set(symbols)
    assert len(symbols) == 32


@pytest.mark.parametrize("length", [3, 11, 0])
def test_lengths_outside_four_to_ten_are_refused(length):
    with pytest.raises(InvalidCodePolicy, match="between 4 and 10"):
        CodePolicy(length)


def test_group_policy_is_the_union_of_every_lock_rule():
    nuki = LockCapabilities(
        constraints=CodeConstraints(no_zeros=True, forbidden_prefixes=frozenset({"12"}))
    )
    tedee = LockCapabilities(constraints=CodeConstraints(min_distinct_symbols=3, no_sequence=True))
    policy = policy_for_locks(CodePolicy(6), [nuki, tedee])
    assert policy.constraints.no_zeros
    assert policy.constraints.forbidden_prefixes == {"12"}
    assert policy.constraints.min_distinct_symbols == 3
    assert policy.constraints.no_sequence
    assert "0" not in policy.symbols


def test_a_lock_without_enter_key_makes_the_group_prefix_free():
    policy = policy_for_locks(
        CodePolicy(6), [LockCapabilities(), LockCapabilities(enter_key=False)]
    )
    assert policy.prefix_free


def test_a_lock_that_cannot_take_the_length_is_a_configuration_error():
    short_keypad = LockCapabilities(code_lengths=frozenset({4, 5, 6}))
    with pytest.raises(InvalidCodePolicy, match="does not take 8-symbol codes"):
        policy_for_locks(CodePolicy(8), [short_keypad])


def test_a_numeric_keypad_cannot_take_alphanumeric_codes():
    with pytest.raises(InvalidCodePolicy, match="only takes numeric"):
        policy_for_locks(CodePolicy(6, Alphabet.ALPHANUMERIC), [LockCapabilities()])
