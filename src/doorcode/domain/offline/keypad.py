"""An offline lock's keypad: the reference model firmware is written from and tested against.

The lock knows its key group, its programming code, its settings and its own clock, which
every call passes in as ``at`` (an aware instant; the lock counts whole seconds after the
group's epoch). It never learns anything from the network. What it does, in order:

1. while locked out, refuse every entry without looking at it;
2. an entry of the group's code length is an offline code: decrypt, refuse a number of
   ``WINDOW_COUNT`` or more, then the block list, the window widened by the clock-drift
   tolerance at both ends, and the activation rule;
3. a shorter entry is a short PIN, looked up by its tag;
4. count every refusal; the ``lockout_after``-th in a row locks the keypad for
   ``lockout_for``; an opening resets the count.

The :class:`Reason` is for the lock's own log. A keypad should show one refusal signal for all
of them, so a stranger cannot tell a code that is valid some other day from a wrong one.

Extension points: :class:`KeypadSettings` (tolerance, lockout, table sizes, activation rule)
and :class:`KeypadMemory` (what persists). Example::

    keypad = Keypad(group, programming_code="902114")
    if keypad.enter(code, at=now).opened:
        keypad.register_short_pin("7395", at=now + timedelta(seconds=4))
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from doorcode.domain.offline.codes import OfflineCodec
from doorcode.domain.offline.errors import InvalidKeypadSettings
from doorcode.domain.offline.key_group import KeyGroup
from doorcode.domain.offline.keypad_memory import KeypadMemory, LastOpen
from doorcode.domain.offline.programming import (
    BLOCK_COMMAND,
    is_programming_code,
    parse_sequence,
)
from doorcode.domain.offline.short_pins import (
    MAX_PIN_DIGITS,
    MIN_PIN_DIGITS,
    is_acceptable_short_pin,
    short_pin_tag,
)
from doorcode.domain.offline.window_packing import DAY, seconds_after, unpack

__all__ = [
    "ACTIVATION_PERIOD",
    "SHORT_PIN_GRACE",
    "Keypad",
    "KeypadResult",
    "KeypadSettings",
    "Reason",
]

ACTIVATION_PERIOD = timedelta(hours=24)
SHORT_PIN_GRACE = timedelta(seconds=10)
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
    NO_RECENT_OPEN = "no_recent_open"
    PIN_REFUSED = "pin_refused"
    PIN_TAKEN = "pin_taken"
    PIN_TABLE_FULL = "pin_table_full"
    CODE_BLOCKED = "code_blocked"
    WRONG_PROGRAMMING_CODE = "wrong_programming_code"
    UNKNOWN_COMMAND = "unknown_command"
    BLOCK_LIST_FULL = "block_list_full"


_ACCEPTED = frozenset({Reason.OPENED, Reason.PIN_REGISTERED, Reason.CODE_BLOCKED})


@dataclass(frozen=True, slots=True)
class KeypadResult:
    """The keypad's answer to one entry, registration or programming sequence."""

    reason: Reason

    @property
    def accepted(self) -> bool:
        """Whether the lock did what was asked (opened, registered, blocked)."""
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
        self._programming_code = programming_code
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
        """Install a rotated key: old codes, their short PINs and the block list all go."""
        self._load_group(group)
        self._memory = KeypadMemory()

    def enter(self, entry: str, at: datetime) -> KeypadResult:
        """Someone typed ``entry`` and pressed Enter when the lock's clock read ``at``."""
        if self._is_locked_out(at):
            return KeypadResult(Reason.LOCKED_OUT)
        now = seconds_after(self._group.epoch, at)
        if len(entry) == self._group.digits:
            reason = self._judge_code(entry, now, at)
        else:
            reason = self._judge_short_pin(entry, now)
        self._count(reason, at)
        return KeypadResult(reason)

    def register_short_pin(self, pin: str, at: datetime) -> KeypadResult:
        """Register ``pin`` for the offline code that opened the door at most 10 s before."""
        last = self._memory.last_open
        if self._is_locked_out(at):
            return KeypadResult(Reason.LOCKED_OUT)
        if last is None or not timedelta(0) <= at - last.at <= SHORT_PIN_GRACE:
            return KeypadResult(Reason.NO_RECENT_OPEN)
        shortest = self._settings.short_pin_min_digits
        if not is_acceptable_short_pin(pin, self._group.digits, shortest):
            return KeypadResult(Reason.PIN_REFUSED)
        reason = self._file_short_pin(pin, last.window_index, seconds_after(self._group.epoch, at))
        if reason is Reason.PIN_REGISTERED:
            self._memory.last_open = None
        return KeypadResult(reason)

    def program(self, sequence: str, at: datetime) -> KeypadResult:
        """Run a programming sequence such as ``<programming code>#128#<code>#``."""
        if self._is_locked_out(at):
            return KeypadResult(Reason.LOCKED_OUT)
        groups = parse_sequence(sequence)
        if not groups or not hmac.compare_digest(groups[0], self._programming_code):
            self._count(Reason.WRONG_PROGRAMMING_CODE, at)
            return KeypadResult(Reason.WRONG_PROGRAMMING_CODE)
        self._memory.failures = 0
        if len(groups) != 3 or groups[1] != BLOCK_COMMAND:
            return KeypadResult(Reason.UNKNOWN_COMMAND)
        index = self._codec.index_of(groups[2])
        if index is None:
            return KeypadResult(Reason.WRONG_CODE)
        return KeypadResult(self._block(index, seconds_after(self._group.epoch, at)))

    def _load_group(self, group: KeyGroup) -> None:
        self._group = group
        self._codec = OfflineCodec(group)
        self._pin_key = group.short_pin_key()

    def _is_locked_out(self, at: datetime) -> bool:
        locked_until = self._memory.locked_until
        return locked_until is not None and at < locked_until

    def _count(self, reason: Reason, at: datetime) -> None:
        memory = self._memory
        if reason is Reason.OPENED:
            memory.failures = 0
            return
        memory.failures += 1
        if memory.failures >= self._settings.lockout_after:
            memory.failures = 0
            memory.locked_until = at + self._settings.lockout_for

    def _judge_code(self, entry: str, now: int, at: datetime) -> Reason:
        index = self._codec.index_of(entry)
        if index is None:
            return Reason.WRONG_CODE
        reason = self._judge_window(index, now)
        if reason is Reason.OPENED:
            self._memory.last_open = LastOpen(index, at)
        return reason

    def _judge_window(self, index: int, now: int) -> Reason:
        start, end = unpack(index)
        tolerance = self._tolerance
        if index in self._memory.blocked:
            return Reason.BLOCKED
        if now < start - tolerance:
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

    def _judge_short_pin(self, entry: str, now: int) -> Reason:
        if len(entry) < MIN_PIN_DIGITS or not (entry.isascii() and entry.isdigit()):
            return Reason.WRONG_CODE
        tag = short_pin_tag(self._pin_key, entry)
        owner = self._memory.short_pins.get(tag)
        if owner is None:
            return Reason.WRONG_CODE
        if self._has_expired(owner, now):
            del self._memory.short_pins[tag]
            return Reason.EXPIRED
        if now < unpack(owner).start - self._tolerance:
            return Reason.NOT_YET_VALID
        return Reason.OPENED

    def _file_short_pin(self, pin: str, owner: int, now: int) -> Reason:
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
        """A blocked code loses its activation, its short PIN and its chance to register one."""
        memory = self._memory
        memory.activated.discard(index)
        for tag in [tag for tag, owner in memory.short_pins.items() if owner == index]:
            del memory.short_pins[tag]
        if memory.last_open is not None and memory.last_open.window_index == index:
            memory.last_open = None

    def _has_expired(self, index: int, now: int) -> bool:
        return now >= unpack(index).end + self._tolerance
