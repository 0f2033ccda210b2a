"""What can go wrong in the domain, as exceptions named for what happened.

    DomainError
    ├── InvalidWindow        a window that ends before it starts, or naive datetimes
    │   └── InstantOutOfRange    an instant or a date outside the years doorcode accepts
    ├── UnknownTimeZone      a zone name the pinned tz database does not know
    ├── AmbiguousReference   a name several properties (or locks) share
    ├── InvalidCodePolicy    lengths or constraints no code can satisfy
    ├── InvalidLeadTime      a programming lead time that is negative or absurdly long
    ├── CodeRejected         a chosen code breaks the policy of a lock it is for
    ├── CodeClash            a chosen code is already taken on a shared lock at that time
    └── CodeSpaceExhausted   no free code is left for that window on those locks

Entry points (api, web, cli) turn these into 4xx answers or exit codes; messages never carry
a code, so they are safe to show and to log.
"""

__all__ = [
    "AmbiguousReference",
    "CodeClash",
    "CodeRejected",
    "CodeSpaceExhausted",
    "DomainError",
    "InstantOutOfRange",
    "InvalidCodePolicy",
    "InvalidLeadTime",
    "InvalidWindow",
    "UnknownTimeZone",
]


class DomainError(Exception):
    """Base of every error the domain raises on bad input or an impossible request."""


class InvalidWindow(DomainError):
    """A window that is empty, reversed or not timezone-aware."""


class InstantOutOfRange(InvalidWindow):
    """An instant or a date outside the years doorcode accepts; ``field`` names which one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownTimeZone(DomainError):
    """A time-zone name the pinned tz database does not know."""


class AmbiguousReference(DomainError):
    """A name that several objects of one kind share: picking one would be a guess.

    It was answered as "no property 'Flat 1'" although there were two, which sent the
    operator looking for a typo.
    """

    def __init__(self, what: str, reference: str, ids: list[str]) -> None:
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        super().__init__(
            f"several {what} are named {reference!r} ({shown}): give an id or external id"
        )
        self.what = what
        self.reference = reference


class InvalidCodePolicy(DomainError):
    """A code policy that no code could satisfy, or that a lock cannot take."""


class InvalidLeadTime(DomainError):
    """A lead time below zero or beyond what any lock needs."""


class CodeRejected(DomainError):
    """A code chosen by a person breaks the rules of a lock it is meant for."""


class CodeClash(DomainError):
    """A code chosen by a person is already in use on a shared lock during the window."""


class CodeSpaceExhausted(DomainError):
    """Every code the policy allows is taken on these locks for this window."""
