"""One account's long-lived MQTT link to zigbee2mqtt: what the locks said, kept for the process.

Why a link and not a connection per pass: the reconciler builds its providers per session
(``locks/registry.py``), but zigbee2mqtt publishes a lock's slot reads, its "code added" and its
keypad openings once, to whoever is subscribed then. So each account has one link, owned by
the registry (``ProviderRegistry.links``) for the life of the process, that stays subscribed
and keeps:

- the locks of the retained ``bridge/devices`` and their retained availability;
- each lock's slot table, filled by one full inventory the first time the lock's codes are
  asked for, then kept current by every state message and programming event it sees, so
  ``list_codes`` costs no radio in steady state;
- each lock's access events since the process started, for ``access_events``.

The link runs its own event loop in a daemon thread. Callers in any loop (each ``asyncio.run``
of a CLI command, the server's loop) hand it coroutines through ``call``; the state is only
touched from the link's own loop, so it needs no locks.

Every publish to a device's ``/set`` or ``/get`` goes through ``_publish_to_device``, which
counts it in ``operations``: the radio budget is read there (tests, ``bench/radio.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import threading
import uuid
from collections import Counter, deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import aiomqtt

from doorcode.domain.clock import Clock
from doorcode.locks.access_events import AccessEvent, AccessEventPage, heard_event_id
from doorcode.locks.base import CodeState
from doorcode.locks.errors import (
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    ProviderError,
    ProviderUnavailable,
    UnknownDevice,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.zigbee2mqtt.messages import (
    ActionReport,
    DeviceEntry,
    SlotReport,
    opening_of,
    read_availability,
    read_devices,
    read_failure,
    read_state,
)
from doorcode.locks.zigbee2mqtt.models import (
    LockModel,
    Readback,
    model_for,
    slot_of_user,
    user_of_slot,
)

__all__ = ["LinkSettings", "RadioOperations", "SlotView", "Zigbee2MqttLink"]

LINK_CALL_TIMEOUT = 600.0
"""The longest one call may wait on the link's loop: a first inventory of a big lock over a slow
mesh takes minutes, but a link whose loop was stopped under a waiting call must not hang a
pass (and with it the lock) forever."""

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SILENT_READS_BEFORE_UNREADABLE = 3
"""A lock that answers none of its first reads cannot be read: stop asking it."""
_RETAINED_SETTLE = 0.3
"""Seconds to let retained availability arrive after subscribing to a lock's topics."""
_NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
"""Small request/answer messages: do not let Nagle hold them back."""
_EVENTS_KEPT = 500
"""Access events kept per lock between two polls (a busy door opens a few dozen times a day)."""
BATTERY_NOTE = (
    "zigbee2mqtt marks a battery-powered lock offline only after 25 h without a message "
    "(availability passive timeout, 1500 min by default): 'online' can be a day old"
)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Where the broker is and how patient to be with it and with the locks."""

    host: str
    port: int
    base_topic: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    overrides: Mapping[str, LockModel] = field(default_factory=dict)
    answer_timeout: float = 10.0
    """How long a single-slot read may take before the write counts as accepted, not set."""
    connect_timeout: float = 5.0
    recheck_after: float = 600.0
    """Seconds after which a write still unconfirmed on a readable lock is read once more."""

    @property
    def key(self) -> str:
        """What distinguishes one link from another in the process."""
        return f"{self.host}:{self.port}/{self.base_topic}@{self.username or ''}"


@dataclass
class RadioOperations:
    """Every publish to a lock's ``/set`` or ``/get``: what its radio (and battery) carried."""

    sets: int = 0
    gets: int = 0
    by_device: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Sets and gets together."""
        return self.sets + self.gets


@dataclass(frozen=True, slots=True)
class SlotView:
    """One occupied slot as the link knows it (doorcode's numbering, from 1)."""

    slot: int
    pin: str | None = field(repr=False)
    state: CodeState


@dataclass
class _Slot:
    occupied: bool
    pin: str | None = field(default=None, repr=False)
    pending: bool = False
    """Written, not yet confirmed by a read or by the lock's programming event."""
    asked_at: float = 0.0
    """When (the link loop's clock) the lock was last asked about this slot."""


@dataclass
class _Lock:
    entry: DeviceEntry
    model: LockModel
    online: bool | None = None
    battery: int | None = None
    last_contact: datetime | None = None
    slots: dict[int, _Slot] = field(default_factory=dict)
    """By zigbee user id (from 0)."""
    inventory_next: int | None = 0
    """The next user id the first inventory reads; None once it is complete."""
    unreadable: bool = False
    answered: bool = False
    """The lock has answered a slot read in this process."""
    events: deque[tuple[int, AccessEvent]] = field(
        default_factory=lambda: deque(maxlen=_EVENTS_KEPT)
    )
    waiters: dict[int, list[asyncio.Future[_Slot]]] = field(default_factory=dict)
    failure: asyncio.Future[ProviderError] | None = None

    @property
    def readable(self) -> bool:
        return self.model.readback is Readback.PINS and not self.unreadable


class Zigbee2MqttLink:
    """The MQTT subscription and the knowledge of one zigbee2mqtt account's locks."""

    def __init__(self, settings: LinkSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.operations = RadioOperations()
        self.epoch = uuid.uuid4().hex[:12]
        self._seq = 0
        self._locks: dict[str, _Lock] = {}
        self._names: dict[str, str] = {}
        self._devices_seen: asyncio.Event | None = None
        self._connected: asyncio.Event | None = None
        self._bridge_online: bool | None = None
        self._client: aiomqtt.Client | None = None
        self._last_error = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, name=f"zigbee2mqtt {settings.key}", daemon=True
        )
        self._task: asyncio.Task[None] | None = None
        self._followed_at = 0.0

    @classmethod
    def start(cls, settings: LinkSettings, clock: Clock) -> Zigbee2MqttLink:
        """A link that connects in its own thread and keeps reconnecting until closed."""
        link = cls(settings, clock)
        link._thread.start()
        return link

    def close(self) -> None:
        """Stop listening and end the thread (bounded: a stuck broker does not hold us)."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._cancel)
        self._thread.join(timeout=5)

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the link's loop and wait for it from the caller's loop."""
        try:
            future = asyncio.run_coroutine_threadsafe(work, self._loop)
        except RuntimeError as err:
            work.close()
            raise ProviderUnavailable("the zigbee2mqtt link is closed") from err
        try:
            # Not wait_for: on Python 3.11 it drops a cancellation that meets the answer, and
            # a pass told to stop would go on.
            async with asyncio.timeout(LINK_CALL_TIMEOUT):
                return await asyncio.wrap_future(future)
        except TimeoutError as err:
            minutes = int(LINK_CALL_TIMEOUT // 60)
            raise ProviderUnavailable(
                f"the zigbee2mqtt link did not answer within {minutes} minutes"
            ) from err

    # -- what the provider asks (run on the link's loop through ``call``) -----------------

    async def devices(self) -> list[tuple[DeviceEntry, LockModel, LockHealth]]:
        """Every lock of ``bridge/devices`` with its model facts and health."""
        await self._ready()
        return [(lock.entry, lock.model, self._health(lock)) for lock in self._locks.values()]

    async def codes(self, ieee: str) -> list[SlotView]:
        """The occupied slots; reads the whole table once per process, then nothing."""
        lock = await self._lock(ieee)
        if lock.inventory_next is not None:
            if lock.online is False:
                raise LockOffline(
                    f"zigbee2mqtt marks lock {lock.entry.friendly_name!r} offline: "
                    "its slots cannot be read yet"
                )
            await self._inventory(lock)
        await self._recheck(lock)
        return [
            SlotView(
                slot_of_user(user),
                slot.pin,
                CodeState.ACCEPTED if slot.pending else CodeState.SET,
            )
            for user, slot in sorted(lock.slots.items())
            if slot.occupied
        ]

    async def reads_back(self, ieee: str) -> bool:
        """Whether the lock's slot table came from reading it, not only from this process.

        A write-only model, or one that answered none of its first reads, is never read: after
        a restart its table holds none of the codes written before.
        """
        return (await self._lock(ieee)).readable

    async def write(self, ieee: str, slot: int, pin: str) -> CodeState:
        """Put ``pin`` in ``slot`` and read that slot back (or wait for the lock's event)."""
        lock = await self._writable(ieee)
        user = user_of_slot(slot)
        if not 0 <= user < lock.model.slots:
            raise NoSpaceLeft(f"lock {lock.entry.friendly_name!r} has no slot {slot}")
        payload = {"user": user, "user_type": "unrestricted", "user_enabled": True, "pin_code": pin}
        lock.failure = self._loop.create_future()
        await self._publish_to_device(lock, "set", {"pin_code": payload})
        if not lock.readable:
            lock.slots[user] = _Slot(occupied=True, pending=True)
            return CodeState.ACCEPTED
        read = await self._read_slot(
            lock, user, expect=lambda s: s.occupied and s.pin in (pin, None)
        )
        failure = lock.failure.result() if lock.failure.done() else None
        if failure is not None:
            raise failure
        if read is None:
            lock.slots[user] = _Slot(occupied=True, pending=True, asked_at=self._loop.time())
            return CodeState.ACCEPTED
        if read.occupied and read.pin in (pin, None):
            return CodeState.SET
        raise self._refusal(lock, pin, user)

    async def clear(self, ieee: str, slot: int) -> None:
        """Empty ``slot`` and read it back; an empty slot is cleared again without complaint."""
        lock = await self._writable(ieee)
        user = user_of_slot(slot)
        if not 0 <= user < lock.model.slots:
            return
        lock.failure = self._loop.create_future()
        await self._publish_to_device(lock, "set", {"pin_code": {"user": user, "pin_code": None}})
        if not lock.readable:
            lock.slots[user] = _Slot(occupied=False)
            return
        read = await self._read_slot(lock, user, expect=lambda s: not s.occupied)
        if read is None or read.occupied:
            raise LockOffline(
                f"lock {lock.entry.friendly_name!r} did not confirm slot {slot} cleared"
            )

    async def health(self, ieee: str) -> LockHealth:
        """Availability, battery and last message, as zigbee2mqtt last published them."""
        return self._health(await self._lock(ieee))

    async def events(self, ieee: str, cursor: str | None) -> AccessEventPage:
        """The lock's openings seen since ``cursor`` (all kept ones after a restart)."""
        lock = await self._lock(ieee)
        epoch, _, seen = (cursor or "").partition(":")
        after = int(seen) if epoch == self.epoch and seen.isdigit() else -1
        events = tuple(event for seq, event in lock.events if seq > after)
        return AccessEventPage(events, f"{self.epoch}:{self._seq}")

    # -- reading and writing slots ----------------------------------------------------------

    async def _recheck(self, lock: _Lock) -> None:
        """Read once more a write whose read-back never came: a check that is due, not a poll.

        Only on a lock that answers reads, at most once per ``recheck_after`` for each slot.
        """
        if not lock.readable or lock.online is False:
            return
        due = self._loop.time() - self.settings.recheck_after
        for user, slot in list(lock.slots.items()):
            if slot.pending and slot.asked_at <= due:
                slot.asked_at = self._loop.time()
                await self._read_slot(lock, user, expect=lambda s: True)

    async def _inventory(self, lock: _Lock) -> None:
        """Read every slot once, one ``/get`` each (zigbee has no "read all").

        A lock that answers none of its first reads cannot be read: it is not asked again. One
        that stops answering halfway stops the inventory (``LockOffline``); the next pass
        resumes it where it stopped instead of waiting out every remaining slot now.
        """
        if not lock.readable:
            lock.inventory_next = None
            return
        silent = 0
        while lock.inventory_next is not None and lock.inventory_next < lock.model.slots:
            user = lock.inventory_next
            read = await self._read_slot(lock, user, expect=lambda s: True)
            silent = silent + 1 if read is None else 0
            if silent >= _SILENT_READS_BEFORE_UNREADABLE:
                lock.inventory_next = user - silent + 1  # the first slot it did not answer
                self._stop_inventory(lock)
                return
            lock.inventory_next = user + 1
        lock.inventory_next = None

    def _stop_inventory(self, lock: _Lock) -> None:
        name = lock.entry.friendly_name
        if lock.answered:
            raise LockOffline(f"lock {name!r} stopped answering slot reads; resumed next pass")
        logger.warning("zigbee lock %s answers no slot reads: writes confirmed by its events", name)
        lock.unreadable = True
        lock.inventory_next = None

    async def _read_slot(self, lock: _Lock, user: int, expect: Any) -> _Slot | None:
        """Ask for one slot; the first answer that ``expect`` likes, else the last, else None.

        zigbee2mqtt may repeat its cached (older) view of a slot in a message sent for another
        reason, so an answer that does not match is kept only if nothing better comes.
        """
        waiter: asyncio.Future[_Slot] = self._loop.create_future()
        lock.waiters.setdefault(user, []).append(waiter)
        last: _Slot | None = None
        deadline = self._loop.time() + self.settings.answer_timeout
        try:
            await self._publish_to_device(lock, "get", {"pin_code": {"user": user}})
            while (left := deadline - self._loop.time()) > 0:
                failure = lock.failure
                waits: list[asyncio.Future[Any]] = [waiter]
                if failure is not None and not failure.done():
                    waits.append(failure)
                done, _ = await asyncio.wait(waits, timeout=left, return_when="FIRST_COMPLETED")
                if not done or (failure is not None and failure.done()):
                    break
                last = waiter.result()
                if expect(last):
                    return last
                waiter = self._loop.create_future()
                lock.waiters.setdefault(user, []).append(waiter)
        finally:
            waiters = lock.waiters.get(user, [])
            if waiter in waiters:
                waiters.remove(waiter)
        return last

    def _refusal(self, lock: _Lock, pin: str, user: int) -> ProviderError:
        """Why the lock did not take a PIN: its own words if it said, else what we can see."""
        if any(s.occupied and s.pin == pin for u, s in lock.slots.items() if u != user):
            return DuplicateCode(
                f"lock {lock.entry.friendly_name!r} holds this PIN in another slot"
            )
        occupied = sum(1 for s in lock.slots.values() if s.occupied)
        if occupied >= lock.model.slots:
            return NoSpaceLeft(f"lock {lock.entry.friendly_name!r} is full")
        return DuplicateCode(
            f"lock {lock.entry.friendly_name!r} did not take the code in slot {slot_of_user(user)}"
            " (some locks refuse a PIN they hold elsewhere without saying so)"
        )

    async def _publish_to_device(self, lock: _Lock, verb: str, payload: Mapping[str, Any]) -> None:
        """The one counting point for radio traffic: a publish to ``<device>/set`` or ``/get``."""
        client = self._client
        if client is None:
            raise ProviderUnavailable(self._unreachable())
        topic = f"{self.settings.base_topic}/{lock.entry.friendly_name}/{verb}"
        try:
            await client.publish(topic, json.dumps(payload), qos=0)
        except aiomqtt.MqttError as err:
            raise ProviderUnavailable(f"publishing to zigbee2mqtt failed: {err}") from err
        if verb == "set":
            self.operations.sets += 1
        else:
            self.operations.gets += 1
        self.operations.by_device[lock.entry.ieee_address] += 1

    # -- the lock's state -------------------------------------------------------------------

    async def _ready(self) -> None:
        """Connected and ``bridge/devices`` heard, within the connect timeout."""
        assert self._connected is not None
        assert self._devices_seen is not None
        timeout = self.settings.connect_timeout
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see ``call``
                await self._connected.wait()
        except TimeoutError as err:
            raise ProviderUnavailable(self._unreachable()) from err
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see ``call``
                await self._devices_seen.wait()
        except TimeoutError as err:
            raise ProviderUnavailable(
                f"no zigbee2mqtt publishes {self.settings.base_topic}/bridge/devices on "
                f"{self.settings.host}:{self.settings.port}"
            ) from err
        # The broker sends a new subscription's retained availability right after it.
        settle = self._followed_at + _RETAINED_SETTLE - self._loop.time()
        if settle > 0:
            await asyncio.sleep(settle)

    async def _lock(self, ieee: str) -> _Lock:
        await self._ready()
        lock = self._locks.get(ieee)
        if lock is None:
            raise UnknownDevice(f"zigbee2mqtt has no lock {ieee}")
        return lock

    async def _writable(self, ieee: str) -> _Lock:
        lock = await self._lock(ieee)
        if self._bridge_online is False:
            raise ProviderUnavailable("zigbee2mqtt says it is offline (bridge/state)")
        if lock.online is False:
            raise LockOffline(f"zigbee2mqtt marks lock {lock.entry.friendly_name!r} offline")
        return lock

    def _health(self, lock: _Lock) -> LockHealth:
        note = BATTERY_NOTE if lock.entry.battery else None
        return LockHealth(lock.online, lock.battery, lock.last_contact, note)

    def _unreachable(self) -> str:
        where = f"{self.settings.host}:{self.settings.port}"
        return f"the MQTT broker at {where} does not answer{': ' if self._last_error else ''}" + (
            self._last_error
        )

    # -- the link's loop --------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._connected = asyncio.Event()
        self._devices_seen = asyncio.Event()
        self._task = self._loop.create_task(self._serve())
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            # A client dropped by the cancellation closes its socket through this loop when
            # it is collected: let go of the task (its traceback holds the client) and collect
            # while the loop is still open.
            self._task = None
            gc.collect()
            self._loop.close()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _serve(self) -> None:
        """Stay subscribed; reconnect after a lost broker with a growing pause (max 30 s)."""
        pause = 0.5
        while True:
            try:
                await self._listen()
            except aiomqtt.MqttError as err:
                self._last_error = str(err)
                logger.warning("zigbee2mqtt link %s: %s", self.settings.key, err)
            finally:
                self._client = None
                if self._connected is not None:
                    self._connected.clear()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)

    async def _listen(self) -> None:
        settings = self.settings
        async with aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=f"doorcode-{self.epoch}-{uuid.uuid4().hex[:6]}",
            timeout=settings.connect_timeout,
            socket_options=_NO_DELAY,
        ) as client:
            base = settings.base_topic
            for topic in ("bridge/devices", "bridge/state", "bridge/logging"):
                await client.subscribe(f"{base}/{topic}", qos=0)
            for name in self._names:
                await self._follow(client, name)
            self._client = client
            self._last_error = ""
            assert self._connected is not None
            self._connected.set()
            async for message in client.messages:
                await self._receive(client, message)

    async def _follow(self, client: aiomqtt.Client, name: str) -> None:
        base = self.settings.base_topic
        await client.subscribe(f"{base}/{name}", qos=0)
        await client.subscribe(f"{base}/{name}/availability", qos=0)
        self._followed_at = self._loop.time()

    async def _receive(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        topic = str(message.topic)[len(self.settings.base_topic) + 1 :]
        if topic == "bridge/devices":
            await self._on_devices(client, payload)
        elif topic == "bridge/state":
            self._bridge_online = read_availability(payload)
        elif topic == "bridge/logging":
            self._on_log(payload)
        elif topic.endswith("/availability") and topic[: -len("/availability")] in self._names:
            lock = self._locks[self._names[topic[: -len("/availability")]]]
            lock.online = read_availability(payload)
        elif topic in self._names:
            self._on_state(self._locks[self._names[topic]], payload, replayed=message.retain)

    async def _on_devices(self, client: aiomqtt.Client, payload: bytes) -> None:
        entries = read_devices(payload)
        if entries is None:
            return
        for entry in entries:
            model = model_for(
                entry.model,
                entry.friendly_name,
                entry.ieee_address,
                overrides=self.settings.overrides,
            )
            known = self._locks.get(entry.ieee_address)
            if known is None:
                self._locks[entry.ieee_address] = _Lock(entry, model)
            else:
                known.entry, known.model = entry, model
        self._names = {entry.friendly_name: entry.ieee_address for entry in entries}
        for name in self._names:
            await self._follow(client, name)
        assert self._devices_seen is not None
        self._devices_seen.set()

    def _on_state(self, lock: _Lock, payload: bytes, *, replayed: bool) -> None:
        report = read_state(payload)
        if report is None:
            return
        contact = report.last_seen or (None if replayed else self.clock())
        if contact is not None:
            lock.last_contact = contact
        if report.battery is not None:
            lock.battery = report.battery
        for slot in report.slots:
            self._on_slot(lock, slot)
        if report.action is not None and not replayed:
            self._on_action(lock, report.action, report.last_seen)

    def _on_slot(self, lock: _Lock, report: SlotReport) -> None:
        slot = _Slot(report.occupied, report.pin)
        lock.slots[report.user] = slot
        lock.unreadable, lock.answered = False, True  # it answers reads after all
        for waiter in lock.waiters.pop(report.user, []):
            if not waiter.done():
                waiter.set_result(slot)

    def _on_action(self, lock: _Lock, action: ActionReport, seen: datetime | None) -> None:
        """Programming events keep the slot table; openings become access events."""
        if action.action == "pin_code_added" and action.user is not None:
            known = lock.slots.get(action.user)
            lock.slots[action.user] = _Slot(True, known.pin if known and known.occupied else None)
            return
        if action.action == "pin_code_deleted" and action.user is not None:
            lock.slots[action.user] = _Slot(False)
            return
        opening = opening_of(action)
        if opening is None:
            return
        outcome, method, reason = opening
        self._seq += 1
        code_ref = str(slot_of_user(action.user)) if action.user is not None else None
        heard_at = self.clock()
        # Every worker process's link hears this message: its id comes from the message
        # (zigbee2mqtt's own last_seen where it sends one), not from this link's sequence.
        event_id = heard_event_id(
            lock.entry.ieee_address,
            {"action": action.action, "user": action.user, "source": action.source},
            heard_at,
            None if seen is None else seen.isoformat(),
        )
        event = AccessEvent(
            event_id,
            lock.entry.ieee_address,
            seen or heard_at,
            outcome,
            method,
            code_ref,
            reason,
        )
        lock.events.append((self._seq, event))

    def _on_log(self, payload: bytes) -> None:
        failure = read_failure(payload)
        if failure is None or failure.device not in self._names:
            return
        lock = self._locks[self._names[failure.device]]
        name = lock.entry.friendly_name
        error: ProviderError
        if failure.duplicate:
            error = DuplicateCode(f"lock {name!r} refused a PIN it already holds")
        elif failure.full:
            error = NoSpaceLeft(f"lock {name!r} is full")
        else:
            error = LockOffline(f"zigbee2mqtt could not reach lock {name!r}")
        if lock.failure is not None and not lock.failure.done():
            lock.failure.set_result(error)
