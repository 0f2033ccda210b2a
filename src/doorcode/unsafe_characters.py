"""The characters of outside text that are never shown as they are, in a log or a terminal.

Guest names, booking references, lock names, webhook bodies and request paths come from
outside, and doorcode shows them in two places: the CLI's output (``cli.terminal_text``) and
the log (``logs``). Both take *which* characters are unsafe from here, so a character found
dangerous is escaped in both places at once and the two lists cannot drift apart. *How* each
place writes them differs, on purpose, and each says why.

- **Control characters** (C0, DEL and C1): a terminal obeys escape sequences, and carriage
  return, vertical tab, form feed, the file/group/record separators and NEL (U+0085, a C1
  control) end a line for some readers, Python's ``str.splitlines`` among them.
- **Line and paragraph separators** (U+2028, U+2029): some log viewers and editors break a
  line on them, so they could start what looks like a line of its own.
- **Bidirectional embeddings, overrides and isolates** (U+202A–U+202E, U+2066–U+2069): they
  reorder how a line is displayed, so what is read is not what is stored ("Trojan Source").
  The bidi *marks* (U+200E, U+200F, U+061C) are left alone: right-to-left names carry them,
  and a mark cannot reverse a run of text.
"""

from __future__ import annotations

__all__ = ["UNSAFE_CHARACTERS", "escape_sequence"]

_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0))
_SEPARATORS = (0x2028, 0x2029)
_BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))

UNSAFE_CHARACTERS = frozenset((*_CONTROLS, *_SEPARATORS, *_BIDI_CONTROLS))
"""Code points that outside text never shows raw: newline and tab included, since a place
that keeps them (the CLI's lines) does so on purpose, and says so."""


def escape_sequence(code_point: int) -> str:
    """How Python writes ``code_point`` in a string literal (``\\x1b``, ``\\u202e``), so the
    escape reads as what it stands for."""
    return f"\\x{code_point:02x}" if code_point < 0x100 else f"\\u{code_point:04x}"
