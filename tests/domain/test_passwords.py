"""Dashboard passwords: long enough, not trivial, not the username."""

import pytest

from doorcode.domain.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "must not repeat one or two characters"),
        ("abababababababab", "must not repeat one or two characters"),
        ("password1234", "one of the first passwords"),
        ("abcdefghijklmn", "one of the first passwords"),
        ("ada-lovelace-2026", "must not contain the username"),
        ("x" * 300 + "yz", "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, problem):
    assert any(problem in found for found in password_problems(password, "ada-lovelace"))


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Ünïcödé ìs fïne here", "7f!Kq2#pL0vZ"]
)
def test_long_unremarkable_passwords_pass(password):
    assert password_problems(password, "ada") == []
