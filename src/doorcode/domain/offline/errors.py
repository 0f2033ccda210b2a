"""What can go wrong with offline codes, as exceptions named for what happened.

    DomainError
    └── OfflineCodeError
        ├── InvalidKeyGroup            a key, epoch, digit count or id no lock can be given
        ├── OfflineWindowUnsupported   a window no offline code can carry
        ├── InvalidKeypadSettings      lockout, tolerance or table sizes a lock cannot take
        ├── InvalidKeypadSequence      a programming code or code that cannot be typed as asked
        └── CorruptKeypadState         a saved keypad state that cannot be read back

Messages never carry a key, a code, a short PIN or a programming code, so they are safe to
show and to log.
"""

from doorcode.domain.errors import DomainError

__all__ = [
    "CorruptKeypadState",
    "InvalidKeyGroup",
    "InvalidKeypadSequence",
    "InvalidKeypadSettings",
    "OfflineCodeError",
    "OfflineWindowUnsupported",
]


class OfflineCodeError(DomainError):
    """Base of every error raised while issuing, reading or checking offline codes."""


class InvalidKeyGroup(OfflineCodeError):
    """Key group parameters that the offline-code format cannot use."""


class OfflineWindowUnsupported(OfflineCodeError):
    """A window that starts before the epoch, past the horizon, or lasts longer than a year."""


class InvalidKeypadSettings(OfflineCodeError):
    """Keypad settings that would make the lock unsafe or unusable."""


class InvalidKeypadSequence(OfflineCodeError):
    """A programming code or code that is not a string of digits of an allowed length."""


class CorruptKeypadState(OfflineCodeError):
    """A saved keypad state with missing fields or values of the wrong kind."""
