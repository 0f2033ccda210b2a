"""The ``virtual`` provider: an in-process lock cloud that behaves like a real one.

It is the demo's default back-end and the test bed for the reconciler. Each device has a code
memory with a capacity, checks codes against its firmware rules, refuses a PIN it already
holds, keeps windows to the minute on locks that schedule natively, and has a keypad:
``cloud.enter(device, code, at)`` says whether the door opens and records a keypad entry,
which the provider reports as an access event (``access_events`` with a cursor). Each device
also has a battery the demo and tests set (``set_battery``), reported with its link state
by ``health``.

Faults are switched on per cloud (``cloud.faults = Faults(failure_rate=0.3, ...)``): server
errors, timeouts (half of them after the change was made, as real timeouts are), 429s with
Retry-After, devices dropping offline for a while, and someone deleting a code by hand.
Tests can also act as the owner directly: ``add_by_hand``, ``change_by_hand``,
``delete_by_hand``.

With a ``path`` the cloud keeps its state in a JSON file, locked around every operation, so
``doorcode serve`` and ``doorcode keypad enter`` in another process see the same locks. The
file holds PINs in clear, as the lock's own memory would: it is the simulated device, readable
only by its owner (mode 0600). The cloud never makes the file's folder (an installation's data
directory): made by whichever command touched a lock first, in its working folder, it would
be a stray ``var/``, and another process started elsewhere would see other locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, TypeVar
from uuid import UUID

from doorcode.domain.clock import Clock
from doorcode.domain.lock_capabilities import (
    LockCapabilities,
    capabilities_from_json,
    capabilities_to_json,
)
from doorcode.domain.offline import KeyGroup, Keypad
from doorcode.domain.offline import KeypadResult as OfflineKeypadResult
from doorcode.domain.offline.keypad import Reason as OfflineReason
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import (
    AccessEvent,
    AccessEventPage,
    AccessMethod,
    AccessOutcome,
    RefusalReason,
)
from doorcode.locks.base import (
    Abilities,
    Device,
    LockProvider,
    NewCode,
    ProviderCode,
    RateLimits,
)
from doorcode.locks.errors import (
    CodeNotFound,
    CodeRefused,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderNotConfigured,
    ProviderUnavailable,
    RateLimited,
    UnknownDevice,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.tags import grant_id_from_tag

__all__ = [
    "Faults",
    "KeypadEntry",
    "KeypadResult",
    "OfflineFirmware",
    "VirtualCloud",
    "VirtualCode",
    "VirtualLock",
    "VirtualLockProvider",
]

RESOLUTION = timedelta(minutes=1)
LOG_LENGTH = 500
"""Keypad entries a device remembers; a poller that falls further behind misses the oldest."""
_STATE_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Faults:
    """How badly the cloud behaves; each rate is a probability per operation."""

    failure_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: timedelta = timedelta(seconds=30)
    offline_rate: float = 0.0
    offline_for: timedelta = timedelta(minutes=10)
    hand_delete_rate: float = 0.0
    latency: float = 0.0
    """Seconds every call takes."""


@dataclass(slots=True)
class VirtualCode:
    """One code in a device's memory."""

    code_id: str
    name: str
    code: str = field(repr=False)
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def opens_at(self, at: datetime) -> bool:
        """Whether typing this code at ``at`` opens the door."""
        if self.starts_at is not None and at < self.starts_at:
            return False
        return self.ends_at is None or at < self.ends_at


@dataclass(frozen=True, slots=True)
class KeypadEntry:
    """One keypad entry in the device's log; the typed PIN is not kept.

    ``sequence`` numbers the device's entries from 1 (the event id and the cursor);
    ``code_ref`` is the matching code's tag when doorcode set it, else its code id.
    """

    at: datetime
    opened: bool
    reason: str
    code_id: str | None = None
    sequence: int = 0
    code_ref: str | None = None
    refusal: RefusalReason | None = None

    def as_access_event(self, device_id: str) -> AccessEvent:
        """The entry in the shape every back-end reports."""
        return AccessEvent(
            event_id=f"ve_{self.sequence}",
            device_id=device_id,
            occurred_at=self.at.astimezone(UTC),
            outcome=AccessOutcome.OPENED if self.opened else AccessOutcome.REFUSED,
            method=AccessMethod.KEYPAD,
            code_ref=self.code_ref,
            reason=None if self.opened else (self.refusal or RefusalReason.OTHER),
        )


@dataclass(slots=True, repr=False)
class OfflineFirmware:
    """What an offline keypad holds: its group's key and programming code, and its memory.

    A technician loads the key once (``VirtualCloud.load_offline_key``); from then on the
    keypad judges every entry by itself with the verifier (``domain.offline.Keypad``) and
    never asks the service. ``memory`` is the keypad's saved state: block list, activations,
    short PINs and lockout (no codes in it).
    """

    key_group: KeyGroup
    programming_code: str
    memory: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"OfflineFirmware({self.key_group!r}, programming_code=***)"

    def run(self, action: Callable[[Keypad], OfflineKeypadResult]) -> OfflineKeypadResult:
        """One keypad action on the verifier, keeping what it remembers afterwards."""
        keypad = self.keypad()
        outcome = action(keypad)
        self.memory = keypad.state()
        return outcome

    def keypad_outcome(self, code: str, at: datetime) -> OfflineKeypadResult:
        """The verifier's answer to ``code`` typed at ``at``."""
        return self.run(lambda keypad: keypad.enter(code, at))

    def keypad(self) -> Keypad:
        """The keypad as it stands, from its saved memory."""
        if not self.memory:
            return Keypad(self.key_group, self.programming_code)
        return Keypad.restore(self.key_group, self.programming_code, self.memory)

    def to_json(self) -> dict[str, Any]:
        """The device's flash: its key too, as a physical lock keeps it."""
        group = self.key_group
        return {
            "key": group.key.hex(),
            "group_id": str(group.group_id),
            "epoch": group.epoch.isoformat(),
            "digits": group.digits,
            "programming_code": self.programming_code,
            "memory": self.memory,
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> OfflineFirmware:
        """Read the device's flash back."""
        group = KeyGroup(
            bytes.fromhex(stored["key"]),
            UUID(stored["group_id"]),
            datetime.fromisoformat(stored["epoch"]),
            stored["digits"],
        )
        return cls(group, stored["programming_code"], stored["memory"])


@dataclass(slots=True)
class VirtualLock:
    """One simulated device: its capabilities, code memory, link state and access log."""

    device_id: str
    name: str
    capabilities: LockCapabilities
    codes: dict[str, VirtualCode] = field(default_factory=dict)
    offline_until: datetime | None = None
    refuses_duplicates: bool = True
    access_log: list[KeypadEntry] = field(default_factory=list)
    offline: OfflineFirmware | None = None
    entries: int = 0
    """How many keypad entries the device has logged in its life (the log keeps the last)."""
    battery_percent: int = 100
    last_contact_at: datetime | None = None
    """When the device last reached its cloud; None: it has not been cut off yet."""

    def is_offline(self, now: datetime) -> bool:
        """Whether the device is out of reach of its cloud at ``now``."""
        if not self.capabilities.online:
            return True
        return self.offline_until is not None and now < self.offline_until


@dataclass(frozen=True, slots=True)
class KeypadResult:
    """What the door did when a code was typed, and why.

    ``accepted`` is True when the keypad took the entry: it opened, or (for a short PIN or a
    programming sequence) it registered it.
    """

    opened: bool
    reason: str
    grant_id: str | None = None
    accepted: bool = False


class VirtualCloud:
    """The simulated lock cloud: devices, their memories, their keypads, and its faults."""

    def __init__(
        self,
        clock: Clock,
        *,
        path: Path | None = None,
        rng: Random | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.clock = clock
        self.faults = faults or Faults()
        self._rng = rng or Random()  # noqa: S311 - simulated faults, not secrets
        self._path = path
        self._mutex = threading.RLock()
        self._locks: dict[str, VirtualLock] = {}
        self._next_id = 1
        self._loaded: bytes | None = None
        """The file's content as this process last read or wrote it."""

    def __repr__(self) -> str:
        return f"VirtualCloud(devices={len(self._locks)}, path={self._path})"

    def has_home(self) -> bool:
        """Whether it can keep its state: in memory, or in a folder that exists."""
        return self._path is None or self._path.parent.is_dir()

    # -- the owner's side: devices, hand edits, the keypad -------------------------------

    def install(
        self,
        device_id: str,
        name: str,
        capabilities: LockCapabilities,
        *,
        refuses_duplicates: bool = True,
    ) -> None:
        """Add a device, or update its capabilities keeping its codes."""
        self.install_many([(device_id, name, capabilities)], refuses_duplicates=refuses_duplicates)

    def install_many(
        self,
        devices: Iterable[tuple[str, str, LockCapabilities]],
        *,
        refuses_duplicates: bool = True,
    ) -> None:
        """``install`` for every ``(device id, name, capabilities)`` in one session.

        With a file behind the cloud each session rewrites the whole file, so installing the
        devices one by one at start-up cost time quadratic in their number.
        """
        with self._session(save=True):
            for device_id, name, capabilities in devices:
                existing = self._locks.get(device_id)
                if existing is None:
                    self._locks[device_id] = VirtualLock(
                        device_id, name, capabilities, refuses_duplicates=refuses_duplicates
                    )
                else:
                    existing.name, existing.capabilities = name, capabilities
                    existing.refuses_duplicates = refuses_duplicates

    def remove(self, device_id: str) -> None:
        """The owner unpairs the device from the cloud: it is unknown from now on."""
        with self._session(save=True):
            self._locks.pop(device_id, None)

    def has_device(self, device_id: str) -> bool:
        """Whether a device by that id is installed."""
        with self._session():
            return device_id in self._locks

    def codes_on(self, device_id: str) -> list[VirtualCode]:
        """A copy of the device's code memory, for tests and the demo."""
        with self._session():
            return [replace(code) for code in self._device(device_id).codes.values()]

    def access_log(self, device_id: str) -> list[KeypadEntry]:
        """Every keypad entry on the device, oldest first."""
        with self._session():
            return list(self._device(device_id).access_log)

    def enter(self, device_id: str, code: str, at: datetime | None = None) -> KeypadResult:
        """Type ``code`` on the device's keypad at ``at`` (default now): does the door open?

        Codes stored in the lock's memory are checked first; anything else goes to its offline
        verifier when it has one (offline codes and short PINs).
        """
        at = at or self.clock()
        with self._session(save=True):
            lock = self._device(device_id)
            result, code_id = _keypad(lock, code, at)
            refusal = _refusal_of(code_id)
            if code_id is None and lock.offline is not None:
                outcome = lock.offline.keypad_outcome(code, at)
                result, refusal = _offline_result(outcome), _offline_refusal(outcome.reason)
            lock.entries += 1
            entry = KeypadEntry(
                at,
                result.opened,
                result.reason,
                code_id,
                lock.entries,
                _code_ref(lock, code_id),
                None if result.opened else refusal,
            )
            lock.access_log.append(entry)
            del lock.access_log[:-LOG_LENGTH]
            return result

    def entries_after(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """The device's keypad entries after ``cursor`` (a sequence number), oldest first.

        A keypad without network keeps its log to itself, as a real one does: nothing.
        """
        with self._session():
            lock = self._device(device_id)
            if not lock.capabilities.online:
                return AccessEventPage((), cursor)
            seen = _sequence_of(cursor)
            newer = [entry for entry in lock.access_log if entry.sequence > seen]
            next_cursor = str(newer[-1].sequence) if newer else cursor
            return AccessEventPage(
                tuple(entry.as_access_event(device_id) for entry in newer), next_cursor
            )

    def set_battery(self, device_id: str, percent: int) -> None:
        """Put a battery charged to ``percent`` in the device (the demo's and tests' knob)."""
        if not 0 <= percent <= 100:
            raise ValueError("a battery level is 0 to 100 %")
        with self._session(save=True):
            self._device(device_id).battery_percent = percent

    def health_of(self, device_id: str) -> LockHealth:
        """The device's link, battery and last contact, as its cloud sees them now."""
        with self._session():
            return _health(self._device(device_id), self.clock())

    def register_short_pin(
        self, device_id: str, pin: str, at: datetime | None = None
    ) -> KeypadResult:
        """Type a short PIN at the offline keypad: within 10 s of an offline code opening the
        door it registers the PIN, later it is looked up like any entry (spec §6.1, §9.2)."""
        return self._on_offline_keypad(
            device_id, lambda keypad: keypad.enter(pin, at or self.clock())
        )

    def program(self, device_id: str, sequence: str, at: datetime | None = None) -> KeypadResult:
        """Type a programming sequence (such as a block) at an offline keypad."""
        return self._on_offline_keypad(
            device_id, lambda keypad: keypad.program(sequence, at or self.clock())
        )

    def load_offline_key(self, device_id: str, key_group: KeyGroup, programming_code: str) -> None:
        """A technician loads the key group's key (again, after a rotation) into the device."""
        with self._session(save=True):
            lock = self._device(device_id)
            if lock.offline is None:
                lock.offline = OfflineFirmware(key_group, programming_code)
                return
            keypad = lock.offline.keypad()
            keypad.reprovision(key_group)
            lock.offline = OfflineFirmware(key_group, programming_code, keypad.state())

    def _on_offline_keypad(
        self, device_id: str, action: Callable[[Keypad], OfflineKeypadResult]
    ) -> KeypadResult:
        with self._session(save=True):
            lock = self._device(device_id)
            if lock.offline is None:
                return KeypadResult(False, "this lock has no offline keypad")
            return _offline_keypad(lock.offline, action)

    def go_offline(self, device_id: str, until: datetime) -> None:
        """Cut the device off from the cloud until ``until``."""
        with self._session(save=True):
            lock = self._device(device_id)
            if not lock.is_offline(self.clock()):
                lock.last_contact_at = self.clock()
            lock.offline_until = until

    def add_by_hand(
        self, device_id: str, name: str, code: str, window: TimeWindow | None = None
    ) -> str:
        """The owner sets a code at the lock; returns its id."""
        with self._session(save=True):
            return self._store(self._device(device_id), name, code, window).code_id

    def change_by_hand(
        self,
        device_id: str,
        code_id: str,
        *,
        code: str | None = None,
        window: TimeWindow | None = None,
    ) -> None:
        """Someone edits a code at the lock."""
        with self._session(save=True):
            stored = self._code(self._device(device_id), code_id)
            if code is not None:
                stored.code = code
            if window is not None:
                stored.starts_at, stored.ends_at = _rounded(window)

    def delete_by_hand(self, device_id: str, code_id: str) -> None:
        """Someone deletes a code at the lock."""
        with self._session(save=True):
            self._device(device_id).codes.pop(code_id, None)

    # -- the provider's side: what the API offers -----------------------------------------

    def list_devices(self) -> list[Device]:
        """Every device, as a provider would describe it."""
        with self._session():
            self._maybe_fail(None)
            now = self.clock()
            return [
                Device(lock.device_id, lock.name, _reported(lock, now), _health(lock, now))
                for lock in self._locks.values()
            ]

    def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every code on the device."""
        with self._session(save=True):
            lock = self._reachable(device_id)
            return [_reported_code(code) for code in lock.codes.values()]

    def create_code(self, device_id: str, new: NewCode) -> ProviderCode:
        """Store a new code, if the device's rules and memory allow it."""
        with self._session(save=True):
            lock = self._reachable(device_id)
            return self._maybe_time_out(lambda: _reported_code(self._create(lock, new)))

    def update_code(self, device_id: str, code_id: str, window: TimeWindow | None) -> ProviderCode:
        """Move a code's window."""
        with self._session(save=True):
            lock = self._reachable(device_id)
            return self._maybe_time_out(lambda: _reported_code(self._update(lock, code_id, window)))

    def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove a code."""
        with self._session(save=True):
            lock = self._reachable(device_id)
            self._code(lock, code_id)
            self._maybe_time_out(lambda: lock.codes.pop(code_id))

    # -- inside -----------------------------------------------------------------------------

    def _device(self, device_id: str) -> VirtualLock:
        lock = self._locks.get(device_id)
        if lock is None:
            raise UnknownDevice(f"no virtual lock {device_id!r}")
        return lock

    def _code(self, lock: VirtualLock, code_id: str) -> VirtualCode:
        stored = lock.codes.get(code_id)
        if stored is None:
            raise CodeNotFound(f"no code {code_id!r} on the lock")
        return stored

    def _reachable(self, device_id: str) -> VirtualLock:
        """The device, after the faults of this call have had their chance."""
        lock = self._device(device_id)
        self._maybe_fail(lock)
        if self._roll(self.faults.hand_delete_rate) and lock.codes:
            victim = self._rng.choice(sorted(lock.codes))
            del lock.codes[victim]
        return lock

    def _maybe_fail(self, lock: VirtualLock | None) -> None:
        now = self.clock()
        if lock is not None and lock.is_offline(now):
            raise LockOffline("the lock does not answer")
        if self._roll(self.faults.rate_limit_rate):
            raise RateLimited("too many requests", retry_after=self.faults.retry_after)
        if self._roll(self.faults.failure_rate):
            raise ProviderUnavailable("the lock cloud answered 503")
        if lock is not None and self._roll(self.faults.offline_rate):
            lock.last_contact_at = now
            lock.offline_until = now + self.faults.offline_for
            raise LockOffline("the lock does not answer")

    def _maybe_time_out(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; a timeout strikes before or after it, as on a real network."""
        if not self._roll(self.faults.timeout_rate):
            return operation()
        if self._rng.random() < 0.5:
            operation()
        raise ProviderUnavailable("the lock cloud timed out")

    def latency(self) -> float:
        """Seconds the next call takes on the simulated wire (half to one and a half times)."""
        if self.faults.latency <= 0:
            return 0.0
        return self.faults.latency * (0.5 + self._rng.random())

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def _create(self, lock: VirtualLock, new: NewCode) -> VirtualCode:
        _check_rules(lock.capabilities, new.code, new.window)
        limit = lock.capabilities.max_codes
        if limit is not None and len(lock.codes) >= limit:
            raise NoSpaceLeft(f"the lock holds {limit} codes already")
        if lock.refuses_duplicates and any(c.code == new.code for c in lock.codes.values()):
            raise DuplicateCode("the lock already holds this code")
        return self._store(lock, new.name, new.code, new.window)

    def _update(self, lock: VirtualLock, code_id: str, window: TimeWindow | None) -> VirtualCode:
        stored = self._code(lock, code_id)
        if window is not None and not lock.capabilities.native_scheduling:
            raise CodeRefused("this lock cannot schedule codes")
        stored.starts_at, stored.ends_at = _rounded(window)
        return stored

    def _store(
        self, lock: VirtualLock, name: str, code: str, window: TimeWindow | None
    ) -> VirtualCode:
        code_id = f"vc_{self._next_id}"
        self._next_id += 1
        starts_at, ends_at = _rounded(window)
        stored = VirtualCode(code_id, name, code, starts_at, ends_at)
        lock.codes[code_id] = stored
        return stored

    @contextlib.contextmanager
    def _session(self, save: bool = False) -> Iterator[None]:
        """One operation: exclusive within the process and, with a file, across processes."""
        with self._mutex:
            if self._path is None:
                yield
                return
            if not self.has_home():
                raise ProviderNotConfigured(
                    f"the virtual locks live in the data directory {self._path.parent}, which "
                    "does not exist: `doorcode init` (or serve, worker, demo) creates it"
                )
            with open(self._path.with_suffix(".lock"), "a") as guard:
                fcntl.flock(guard, fcntl.LOCK_EX)
                try:
                    self._load()
                    try:
                        yield
                        if save:
                            self._save()
                    except BaseException:
                        self._loaded = None  # what changed in memory and was not saved goes
                        raise
                finally:
                    fcntl.flock(guard, fcntl.LOCK_UN)

    def _load(self) -> None:
        assert self._path is not None
        if not self._path.exists():
            return
        raw = self._path.read_bytes()
        if raw == self._loaded:
            return  # as this process left it: parsing it again is the cost worth saving
        state = json.loads(raw)
        self._loaded = raw
        self._next_id = state["next_id"]
        self._locks = {
            device_id: _lock_from_json(device_id, stored)
            for device_id, stored in state["devices"].items()
        }

    def _save(self) -> None:
        assert self._path is not None
        state = {
            "version": _STATE_VERSION,
            "next_id": self._next_id,
            "devices": {device_id: _lock_to_json(lock) for device_id, lock in self._locks.items()},
        }
        raw = json.dumps(state, indent=1).encode()
        temporary = self._path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        os.replace(temporary, self._path)
        self._loaded = raw


class VirtualLockProvider(LockProvider):
    """The ``LockProvider`` over a ``VirtualCloud``; latency is simulated here, as on a wire.

    One simulated cloud serves a whole deployment, so one instance serves every ``virtual``
    account: ``ProviderRegistry`` is given it and shares it (it has no ``from_account``).
    """

    kind = "virtual"
    abilities = Abilities(native_scheduling=True, readable_pins=True, update_in_place=True)

    def __init__(self, cloud: VirtualCloud, *, rate_limits: RateLimits | None = None) -> None:
        self.cloud = cloud
        if rate_limits is not None:
            self.rate_limits = rate_limits

    async def list_devices(self) -> list[Device]:
        """Every virtual device."""
        await self._wire()
        return self.cloud.list_devices()

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every code on the device."""
        await self._wire()
        return self.cloud.list_codes(device_id)

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Put a code on the device."""
        await self._wire()
        return self.cloud.create_code(device_id, code)

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move a code's window."""
        await self._wire()
        return self.cloud.update_code(device_id, code_id, window)

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove a code."""
        await self._wire()
        self.cloud.delete_code(device_id, code_id)

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """The keypad entries after ``cursor``; the cloud keeps a device's last entries."""
        await self._wire()
        return self.cloud.entries_after(device_id, cursor)

    async def health(self, device_id: str) -> LockHealth:
        """Link, battery and last contact of the device."""
        await self._wire()
        return self.cloud.health_of(device_id)

    async def _wire(self) -> None:
        delay = self.cloud.latency()
        if delay > 0:
            await asyncio.sleep(delay)


def _keypad(lock: VirtualLock, code: str, at: datetime) -> tuple[KeypadResult, str | None]:
    """The firmware's decision for one entry."""
    matching = [stored for stored in lock.codes.values() if stored.code == code]
    for stored in matching:
        if stored.opens_at(at):
            granted = grant_id_from_tag(stored.name)
            return KeypadResult(True, "valid code", granted, accepted=True), stored.code_id
    if not matching:
        return KeypadResult(False, "no such code on this lock"), None
    first = matching[0]
    if first.starts_at is not None and at < first.starts_at:
        reason = f"the code is valid from {first.starts_at.isoformat()}"
    else:
        reason = f"the code expired at {first.ends_at.isoformat() if first.ends_at else '?'}"
    return KeypadResult(False, reason, grant_id_from_tag(first.name)), first.code_id


def _offline_keypad(
    firmware: OfflineFirmware, action: Callable[[Keypad], OfflineKeypadResult]
) -> KeypadResult:
    """Run one keypad action on the offline verifier and keep what it remembers."""
    return _offline_result(firmware.run(action))


def _offline_result(outcome: OfflineKeypadResult) -> KeypadResult:
    reason = "offline code" if outcome.opened else outcome.reason.value.replace("_", " ")
    return KeypadResult(outcome.opened, reason, accepted=outcome.accepted)


_OFFLINE_REFUSALS = {
    OfflineReason.WRONG_CODE: RefusalReason.UNKNOWN_CODE,
    OfflineReason.NOT_YET_VALID: RefusalReason.OUTSIDE_WINDOW,
    OfflineReason.EXPIRED: RefusalReason.OUTSIDE_WINDOW,
    OfflineReason.NOT_ACTIVATED_IN_TIME: RefusalReason.OUTSIDE_WINDOW,
    OfflineReason.BLOCKED: RefusalReason.BLOCKED,
    OfflineReason.LOCKED_OUT: RefusalReason.LOCKED_OUT,
}


def _offline_refusal(reason: OfflineReason) -> RefusalReason:
    return _OFFLINE_REFUSALS.get(reason, RefusalReason.OTHER)


def _refusal_of(code_id: str | None) -> RefusalReason:
    """Why the lock's own memory refused an entry: no such code, or not at this time."""
    if code_id is None:
        return RefusalReason.UNKNOWN_CODE
    return RefusalReason.OUTSIDE_WINDOW


def _code_ref(lock: VirtualLock, code_id: str | None) -> str | None:
    """The reference an event carries: doorcode's tag when the code has one, else its id."""
    if code_id is None:
        return None
    stored = lock.codes.get(code_id)
    if stored is not None and grant_id_from_tag(stored.name) is not None:
        return stored.name
    return code_id


def _sequence_of(cursor: str | None) -> int:
    """The sequence number a cursor stands for; a cursor this cloud did not make starts over."""
    if cursor is None or not cursor.isdigit():
        return 0
    return int(cursor)


def _check_rules(capabilities: LockCapabilities, code: str, window: TimeWindow | None) -> None:
    """The firmware's rules for a new code; messages never repeat the code."""
    if not capabilities.accepts_length(len(code)):
        raise CodeRefused(f"the lock does not take {len(code)}-symbol codes")
    if any(symbol not in capabilities.alphabet.symbols for symbol in code):
        raise CodeRefused("the keypad cannot type this code")
    violations = capabilities.constraints.violations(code)
    if violations:
        raise CodeRefused("the lock refuses the code: " + "; ".join(violations))
    if window is not None and not capabilities.native_scheduling:
        raise CodeRefused("this lock cannot schedule codes")


def _rounded(window: TimeWindow | None) -> tuple[datetime | None, datetime | None]:
    """The window as the lock keeps it: to the minute, never shorter than asked."""
    if window is None:
        return None, None
    return _floor(window.starts_at), _ceil(window.ends_at)


def _floor(instant: datetime) -> datetime:
    return instant - timedelta(seconds=instant.second, microseconds=instant.microsecond)


def _ceil(instant: datetime) -> datetime:
    floored = _floor(instant)
    return floored if floored == instant else floored + RESOLUTION


def _reported(lock: VirtualLock, now: datetime) -> LockCapabilities:
    return replace(lock.capabilities, online=not lock.is_offline(now))


def _health(lock: VirtualLock, now: datetime) -> LockHealth:
    """Link, battery and last contact; a keypad without network reports nothing."""
    if not lock.capabilities.online:
        return LockHealth(None, None, None)
    if lock.is_offline(now):
        return LockHealth(False, lock.battery_percent, lock.last_contact_at)
    return LockHealth(True, lock.battery_percent, now)


def _reported_code(code: VirtualCode) -> ProviderCode:
    return ProviderCode(code.code_id, code.name, code.code, code.starts_at, code.ends_at)


def _lock_to_json(lock: VirtualLock) -> dict[str, Any]:
    return {
        "name": lock.name,
        "capabilities": capabilities_to_json(lock.capabilities),
        "offline_firmware": None if lock.offline is None else lock.offline.to_json(),
        "refuses_duplicates": lock.refuses_duplicates,
        "offline_until": _instant_to_json(lock.offline_until),
        "codes": [
            {
                "id": code.code_id,
                "name": code.name,
                "code": code.code,
                "starts_at": _instant_to_json(code.starts_at),
                "ends_at": _instant_to_json(code.ends_at),
            }
            for code in lock.codes.values()
        ],
        "access_log": [_entry_to_json(entry) for entry in lock.access_log[-LOG_LENGTH:]],
        "entries": lock.entries,
        "battery_percent": lock.battery_percent,
        "last_contact_at": _instant_to_json(lock.last_contact_at),
    }


def _entry_to_json(entry: KeypadEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "opened": entry.opened,
        "reason": entry.reason,
        "code_id": entry.code_id,
        "sequence": entry.sequence,
        "code_ref": entry.code_ref,
        "refusal": None if entry.refusal is None else entry.refusal.value,
    }


def _entry_from_json(number: int, stored: dict[str, Any]) -> KeypadEntry:
    """An entry as saved; files from before sequences number their entries in order."""
    refusal = stored.get("refusal")
    return KeypadEntry(
        datetime.fromisoformat(stored["at"]),
        stored["opened"],
        stored["reason"],
        stored["code_id"],
        stored.get("sequence", number),
        stored.get("code_ref", stored["code_id"]),
        RefusalReason(refusal) if refusal else None,
    )


def _lock_from_json(device_id: str, stored: dict[str, Any]) -> VirtualLock:
    capabilities = capabilities_from_json(stored["capabilities"])
    firmware = stored.get("offline_firmware")
    codes = [
        VirtualCode(
            c["id"],
            c["name"],
            c["code"],
            _instant_from_json(c["starts_at"]),
            _instant_from_json(c["ends_at"]),
        )
        for c in stored["codes"]
    ]
    log = [
        _entry_from_json(number, entry)
        for number, entry in enumerate(stored["access_log"], start=1)
    ]
    return VirtualLock(
        device_id,
        stored["name"],
        capabilities,
        {code.code_id: code for code in codes},
        _instant_from_json(stored["offline_until"]),
        stored["refuses_duplicates"],
        log,
        None if firmware is None else OfflineFirmware.from_json(firmware),
        stored.get("entries", len(log)),
        stored.get("battery_percent", 100),
        _instant_from_json(stored.get("last_contact_at")),
    )


def _instant_to_json(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat() if instant is not None else None


def _instant_from_json(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None
