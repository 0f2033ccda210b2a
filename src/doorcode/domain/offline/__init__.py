"""Offline codes: door codes whose validity window is encrypted inside their digits.

For locks that never reach the network. The service issues a code with
:func:`issue_offline_code`; the lock (modelled by :class:`Keypad`) decrypts it and checks the
window against its own clock. ``docs/offline-codes.md`` is the specification.
"""

from doorcode.domain.offline.codes import (
    IssuedOfflineCode,
    OfflineCodec,
    issue_offline_code,
    read_offline_code,
)
from doorcode.domain.offline.errors import (
    CorruptKeypadState,
    InvalidKeyGroup,
    InvalidKeypadSequence,
    InvalidKeypadSettings,
    OfflineCodeError,
    OfflineWindowUnsupported,
)
from doorcode.domain.offline.ff1 import FF1
from doorcode.domain.offline.key_group import KeyGroup
from doorcode.domain.offline.keypad import Keypad, KeypadResult, KeypadSettings, Reason
from doorcode.domain.offline.keypad_memory import KeypadMemory, Pending, Stage
from doorcode.domain.offline.programming import KeypadSequence, block_sequence
from doorcode.domain.offline.security import (
    GuessOdds,
    accepted_window_count,
    typical_accepted_windows,
    worst_accepted_windows,
)
from doorcode.domain.offline.short_pins import is_acceptable_short_pin
from doorcode.domain.offline.window_packing import WINDOW_COUNT, issuable_cover

__all__ = [
    "FF1",
    "WINDOW_COUNT",
    "CorruptKeypadState",
    "GuessOdds",
    "InvalidKeyGroup",
    "InvalidKeypadSequence",
    "InvalidKeypadSettings",
    "IssuedOfflineCode",
    "KeyGroup",
    "Keypad",
    "KeypadMemory",
    "KeypadResult",
    "KeypadSequence",
    "KeypadSettings",
    "OfflineCodeError",
    "OfflineCodec",
    "OfflineWindowUnsupported",
    "Pending",
    "Reason",
    "Stage",
    "accepted_window_count",
    "block_sequence",
    "is_acceptable_short_pin",
    "issuable_cover",
    "issue_offline_code",
    "read_offline_code",
    "typical_accepted_windows",
    "worst_accepted_windows",
]
