"""An offline lock's keypad: the reference model firmware is written from and tested against.

It follows ``docs/offline-codes.md`` §6-§11 step by step; the section numbers below are the
specification's. The lock knows its key group, its programming code, its settings and its own
clock, which every call passes in as ``at`` (an aware instant; the lock counts whole seconds
after the group's epoch). It never learns anything from the network. A person types an entry
and presses Enter (:meth:`Keypad.enter`); the lock, in order (§6.1):

1. while locked out, refuses the entry without looking at it (§10);
2. forgets whatever it was waiting for, noting whether the entry came in time for it;
3. an entry that begins with ``*`` starts a programming sequence (§8);
4. the next part of a programming sequence, within 30 s of the previous one (§8);
5. a PIN-length entry within 10 s of an opening by an offline code registers a short PIN (§9);
6. an entry of the group's code length is an offline code (§6.2, §7);
7. a PIN-length entry is a short PIN, looked up by its tag (§9);
8. anything else is a wrong code;

and counts the refusals of steps 3 and 6-8 towards the lockout (§10).

The :class:`Reason` is for the lock's own log. A keypad shows one refusal signal for all
of them, so a stranger cannot tell a code that is valid some other day from a wrong one.

Extension points: :class:`KeypadSettings` (tolerance, lockout, table sizes, activation rule)
and :class:`KeypadMemory` (what persists). Example::

    keypad = Keypad(group, programming_code="902114")
    if keypad.enter(code, at=now).opened:
        keypad.enter("7395", at=now + timedelta(seconds=4))  # registers 7395 (§9)
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorcode.domain.offline.codes import OfflineCodec
from doorcode.domain.offline.errors import InvalidKeypadSequence, InvalidKeypadSettings
from doorcode.domain.offline.key_group import KeyGroup
from doorcode.domain.offline.keypad_memory import KeypadMemory, Pending, Stage
from doorcode.domain.offline.programming import (
    BLOCK_COMMAND,
    ENTER,
    PROGRAMMING_KEY,
    is_programming_code,
)
from doorcode.domain.offline.short_pins import (
    MAX_PIN_DIGITS,
    MIN_PIN_DIGITS,
    is_trivial_pin,
    short_pin_tag,
)
from doorcode.domain.offline.window_packing import DAY, seconds_after, unpack

__all__ = [
    "ACTIVATION_PERIOD",
    "PART_TIMEOUT",
    "SHORT_PIN_GRACE",
    "Keypad",
    "KeypadResult",
    "KeypadSettings",
    "Reason",
]

ACTIVATION_PERIOD = timedelta(hours=24)
SHORT_PIN_GRACE = timedelta(seconds=10)
PART_TIMEOUT = timedelta(seconds=30)
MAX_TOLERANCE = timedelta(minutes=30)


class Reason(enum.Enum):
    """Why the keypad did what it did; for the lock's log, not for the person at the door."""

    OPENED = "opened"
    WRONG_CODE = "wrong_code"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    NOT_ACTIVATED_IN_TIME = "not_activated_in_time"
    ACTIVATION_TABLE_FULL = "activation_table_full"
    LOCKED_OUT = "locked_out"
    PIN_REGISTERED = "pin_registered"
    PIN_TOO_SHORT = "pin_too_short"
    PIN_TOO_SIMPLE = "pin_too_simple"
    PIN_TAKEN = "pin_taken"
    PIN_TABLE_FULL = "pin_table_full"
    AWAITING_COMMAND = "awaiting_command"
    AWAITING_CODE = "awaiting_code"
    CODE_BLOCKED = "code_blocked"
    WRONG_PROGRAMMING_CODE = "wrong_programming_code"
    UNKNOWN_COMMAND = "unknown_command"
    BLOCK_LIST_FULL = "block_list_full"


_ACCEPTED = frozenset(
    {
        Reason.OPENED,
        Reason.PIN_REGISTERED,
        Reason.AWAITING_COMMAND,
        Reason.AWAITING_CODE,
        Reason.CODE_BLOCKED,
    }
)
_RESETS_COUNT = frozenset({Reason.OPENED, Reason.AWAITING_COMMAND})
_CONTINUES_SEQUENCE = frozenset({Reason.AWAITING_COMMAND, Reason.AWAITING_CODE})


@dataclass(frozen=True, slots=True)
class KeypadResult:
    """The keypad's answer to one entry (or, from :meth:`Keypad.program`, to its last)."""

    reason: Reason

    @property
    def accepted(self) -> bool:
        """Whether the lock did what was asked (opened, registered, took a part, blocked)."""
        return self.reason in _ACCEPTED

    @property
    def opened(self) -> bool:
        """Whether the door opened."""
        return self.reason is Reason.OPENED


@dataclass(frozen=True, slots=True)
class KeypadSettings:
    """How strict a lock is; the defaults are the documented, analysed ones."""

    tolerance: timedelta = timedelta(minutes=5)
    lockout_after: int = 5
    lockout_for: timedelta = timedelta(minutes=5)
    activation_rule: bool = True
    activation_capacity: int = 200
    block_list_capacity: int = 200
    short_pin_capacity: int = 50
    short_pin_min_digits: int = MIN_PIN_DIGITS

    def __post_init__(self) -> None:
        if not timedelta(0) <= self.tolerance <= MAX_TOLERANCE or self.tolerance.microseconds:
            raise InvalidKeypadSettings("tolerance is whole seconds, at most 30 minutes")
        if self.lockout_after < 1 or self.lockout_for < timedelta(0):
            raise InvalidKeypadSettings("lockout needs at least one try and a non-negative time")
        capacities = (self.activation_capacity, self.block_list_capacity, self.short_pin_capacity)
        if min(capacities) < 1:
            raise InvalidKeypadSettings("every table holds at least one entry")
        if not MIN_PIN_DIGITS <= self.short_pin_min_digits <= MAX_PIN_DIGITS:
            raise InvalidKeypadSettings("short PINs may be required to have 4 to 8 digits")


class Keypad:
    """One offline lock: checks codes and short PINs, takes programming, remembers state."""

    def __init__(
        self,
        group: KeyGroup,
        programming_code: str,
        settings: KeypadSettings | None = None,
        memory: KeypadMemory | None = None,
    ) -> None:
        if not is_programming_code(programming_code):
            raise InvalidKeypadSettings("a programming code is 4 to 12 digits")
        self._programming_code = programming_code.encode("ascii")
        self._settings = settings or KeypadSettings()
        self._tolerance = int(self._settings.tolerance.total_seconds())
        self._memory = memory or KeypadMemory()
        self._load_group(group)

    def __repr__(self) -> str:
        return f"Keypad({self._group!r}, programming_code=<masked>)"

    @classmethod
    def restore(
        cls,
        group: KeyGroup,
        programming_code: str,
        state: dict[str, Any],
        settings: KeypadSettings | None = None,
    ) -> Keypad:
        """A keypad that carries on from a state saved with :meth:`state`."""
        return cls(group, programming_code, settings, KeypadMemory.from_dict(state))

    def state(self) -> dict[str, Any]:
        """The lock's memory as JSON-ready data, holding no key, code or PIN."""
        return self._memory.to_dict()

    def reprovision(self, group: KeyGroup) -> None:
        """Install a rotated key: old codes, their short PINs and the block list all go (§13)."""
        self._load_group(group)
        self._memory = KeypadMemory()

    def enter(self, entry: str, at: datetime) -> KeypadResult:
        """Someone typed ``entry`` and pressed Enter when the lock's clock read ``at`` (§6.1)."""
        if self._is_locked_out(at):
            return KeypadResult(Reason.LOCKED_OUT)
        pending, self._memory.pending = self._memory.pending, None
        now = seconds_after(self._group.epoch, at)
        if entry.startswith(PROGRAMMING_KEY):
            reason = self._start_sequence(entry.removeprefix(PROGRAMMING_KEY), at)
        elif pending is not None and _in_time(pending, at):
            if pending.stage is Stage.COMMAND:
                return KeypadResult(self._command(entry, at))
            if pending.stage is Stage.CODE:
                return KeypadResult(self._block_entry(entry, now))
            if pending.window_index is not None and self._is_pin_shaped(entry):
                return KeypadResult(self._register(entry, pending.window_index, now))
            reason = self._judge(entry, now, at)
        else:
            reason = self._judge(entry, now, at)
        self._count(reason, at)
        return KeypadResult(reason)

    def program(self, sequence: str, at: datetime) -> KeypadResult:
        """Type a sequence such as ``*<programming code>#128#<code>#``, every entry at ``at``.

        Like the person told to type it, stops at the first answer that is not a request for
        the next part, and returns that answer.
        """
        if not sequence.endswith(ENTER):
            raise InvalidKeypadSequence("a keypad sequence ends with Enter (#)")
        result = KeypadResult(Reason.WRONG_CODE)
        for entry in sequence.removesuffix(ENTER).split(ENTER):
            result = self.enter(entry, at)
            if result.reason not in _CONTINUES_SEQUENCE:
                break
        return result

    def _load_group(self, group: KeyGroup) -> None:
        self._group = group
        self._codec = OfflineCodec(group)
        self._pin_key = group.short_pin_key()

    def _is_locked_out(self, at: datetime) -> bool:
        locked_until = self._memory.locked_until
        return locked_until is not None and at < locked_until

    def _count(self, reason: Reason, at: datetime) -> None:
        """§10: an ordinary entry's refusal is a miss; an opening or a right programming code
        starts the count again."""
        memory = self._memory
        if reason in _RESETS_COUNT:
            memory.failures = 0
            return
        memory.failures += 1
        if memory.failures >= self._settings.lockout_after:
            memory.failures = 0
            memory.locked_until = at + self._settings.lockout_for

    def _judge(self, entry: str, now: int, at: datetime) -> Reason:
        """An ordinary entry: an offline code, a short PIN, or wrong (§6.1 steps 6-8)."""
        if len(entry) == self._group.digits:
            return self._judge_code(entry, now, at)
        if self._is_pin_shaped(entry):
            return self._judge_short_pin(entry, now)
        return Reason.WRONG_CODE

    def _is_pin_shaped(self, entry: str) -> bool:
        """4 to 8 digits and fewer than the code length: the only entries a PIN can be (§9)."""
        longest = min(MAX_PIN_DIGITS, self._group.digits - 1)
        return _is_digits(entry) and MIN_PIN_DIGITS <= len(entry) <= longest

    # -- §6.2 and §7: offline codes ------------------------------------------------------

    def _judge_code(self, entry: str, now: int, at: datetime) -> Reason:
        index = self._codec.index_of(entry)  # None for non-digits and for X >= P, full width
        if index is None:
            return Reason.WRONG_CODE
        reason = self._judge_window(index, now)
        if reason is Reason.OPENED:
            self._memory.pending = Pending(Stage.REGISTRATION, at, index)
        return reason

    def _judge_window(self, index: int, now: int) -> Reason:
        start, end = unpack(index)
        tolerance = self._tolerance
        if index in self._memory.blocked:
            return Reason.BLOCKED
        if now < start - tolerance:  # signed: start - tolerance < 0 for the first hours
            return Reason.NOT_YET_VALID
        if now >= end + tolerance:
            return Reason.EXPIRED
        if self._needs_activation(index, end - start):
            if now >= start + DAY + tolerance:
                return Reason.NOT_ACTIVATED_IN_TIME
            if not self._remember_activation(index, now):
                return Reason.ACTIVATION_TABLE_FULL
        return Reason.OPENED

    def _needs_activation(self, index: int, duration: int) -> bool:
        rule = self._settings.activation_rule
        return rule and duration > DAY and index not in self._memory.activated

    def _remember_activation(self, index: int, now: int) -> bool:
        activated = self._memory.activated
        if len(activated) >= self._settings.activation_capacity:
            activated -= {known for known in activated if self._has_expired(known, now)}
        if len(activated) >= self._settings.activation_capacity:
            return False
        activated.add(index)
        return True

    # -- §9: short PINs --------------------------------------------------------------------

    def _judge_short_pin(self, entry: str, now: int) -> Reason:
        tag = short_pin_tag(self._pin_key, entry)
        owner = self._memory.short_pins.get(tag)
        if owner is None:
            return Reason.WRONG_CODE
        if self._has_expired(owner, now):
            del self._memory.short_pins[tag]
            return Reason.EXPIRED
        if now < unpack(owner).start - self._tolerance:  # only if the clock was set back
            return Reason.NOT_YET_VALID
        return Reason.OPENED

    def _register(self, pin: str, owner: int, now: int) -> Reason:
        if len(pin) < self._settings.short_pin_min_digits:
            return Reason.PIN_TOO_SHORT
        if is_trivial_pin(pin):
            return Reason.PIN_TOO_SIMPLE
        pins = self._memory.short_pins
        for tag in [tag for tag, index in pins.items() if self._has_expired(index, now)]:
            del pins[tag]
        tag = short_pin_tag(self._pin_key, pin)
        if pins.get(tag, owner) != owner:
            return Reason.PIN_TAKEN
        replaced = [known for known, index in pins.items() if index == owner]
        if not replaced and len(pins) >= self._settings.short_pin_capacity:
            return Reason.PIN_TABLE_FULL
        for known in replaced:
            del pins[known]
        pins[tag] = owner
        return Reason.PIN_REGISTERED

    # -- §8: programming -----------------------------------------------------------------

    def _start_sequence(self, candidate: str, at: datetime) -> Reason:
        typed = candidate.encode("utf-8")
        if not hmac.compare_digest(typed, self._programming_code):
            return Reason.WRONG_PROGRAMMING_CODE
        self._memory.pending = Pending(Stage.COMMAND, at)
        return Reason.AWAITING_COMMAND

    def _command(self, entry: str, at: datetime) -> Reason:
        if entry != BLOCK_COMMAND:
            return Reason.UNKNOWN_COMMAND
        self._memory.pending = Pending(Stage.CODE, at)
        return Reason.AWAITING_CODE

    def _block_entry(self, entry: str, now: int) -> Reason:
        index = self._codec.index_of(entry)
        return Reason.WRONG_CODE if index is None else self._block(index, now)

    def _block(self, index: int, now: int) -> Reason:
        blocked = self._memory.blocked
        if index not in blocked and not self._has_expired(index, now):
            if len(blocked) >= self._settings.block_list_capacity:
                blocked -= {known for known in blocked if self._has_expired(known, now)}
            if len(blocked) >= self._settings.block_list_capacity:
                return Reason.BLOCK_LIST_FULL
            blocked.add(index)
        self._forget_code(index)
        return Reason.CODE_BLOCKED

    def _forget_code(self, index: int) -> None:
        """A blocked code loses its activation and its short PIN."""
        memory = self._memory
        memory.activated.discard(index)
        for tag in [tag for tag, owner in memory.short_pins.items() if owner == index]:
            del memory.short_pins[tag]

    def _has_expired(self, index: int, now: int) -> bool:
        """§6.3: a window has expired once ``c >= e + tolerance``."""
        return now >= unpack(index).end + self._tolerance


def _in_time(pending: Pending, at: datetime) -> bool:
    """Whether an entry at ``at`` still counts as the one ``pending`` waits for."""
    limit = SHORT_PIN_GRACE if pending.stage is Stage.REGISTRATION else PART_TIMEOUT
    return timedelta(0) <= at - pending.at <= limit


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
