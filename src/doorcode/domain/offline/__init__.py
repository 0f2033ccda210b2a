"""Offline codes: door codes whose validity window is encrypted inside their digits.

For locks that never reach the network. ``docs/offline-codes.md`` is the specification.
"""

from doorcode.domain.offline.ff1 import FF1

__all__ = ["FF1"]
