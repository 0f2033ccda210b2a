"""The one list of characters never shown raw covers every way a line can be broken."""

from doorcode.unsafe_characters import UNSAFE_CHARACTERS, escape_sequence


def test_every_character_python_breaks_a_line_on_is_unsafe():
    breaks = [chr(c) for c in range(0x10000) if len(f"a{chr(c)}b".splitlines()) > 1]
    assert {"\n", "\r", "\x85", "\u2028", "\u2029"} <= set(breaks)
    assert [c for c in breaks if ord(c) not in UNSAFE_CHARACTERS] == []


def test_an_escape_reads_as_python_would_write_the_character():
    assert escape_sequence(0x1B) == "\\x1b"
    assert escape_sequence(0x85) == "\\x85"
    assert escape_sequence(0x202E) == "\\u202e"
    assert all(escape_sequence(c).isascii() for c in UNSAFE_CHARACTERS)
