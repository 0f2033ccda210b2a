"""A simulated zigbee2mqtt bridge with keypad locks, on a real MQTT broker.

No vendor fake exists for zigbee2mqtt, so this one follows its documented topics and the
quirks real locks show through it. It serves the tests, ``doorcode demo`` (when a broker
answers) and ``bench/radio.py``::

    with Zigbee2MqttSimulator("127.0.0.1", 1883) as bridge:  # a random base topic
        bridge.add_lock("Front door", slots=250)              # a Yale YRD256 by default
        ...                                                   # doorcode uses bridge.base_topic
        bridge.keypad("Front door", "482913")                 # a guest types their code
        bridge.received                                       # Counter of (lock, "set"/"get")

What it publishes, as zigbee2mqtt does: retained ``<base>/bridge/state``, ``bridge/devices``
(the coordinator, the locks with their ``pin_code`` expose, and a sensor that is no lock) and
``<device>/availability`` as JSON; a state message on ``<device>`` for every slot read and
every lock event. What it answers: ``<device>/set {"pin_code": {"user", "pin_code"}}`` (null
clears) and ``<device>/get {"pin_code": {"user"}}``. Users are zigbee's, numbered from 0.

The quirks, each a setting of ``add_lock``:

- ``action`` is transient: it appears in one state message and is gone from the next;
- a slot read is answered by a state message with that one slot (a full read is one message
  per slot); with ``cache_state`` each message repeats every slot read before, stale or not,
  as zigbee2mqtt's state cache does;
- PINs are in the state only with ``expose_pin`` (zigbee2mqtt's device option);
- ``behaviour=WRITE_ONLY`` never answers a read (its "code added" event is all one learns);
  ``behaviour=MASKED`` answers reads without the PIN even with ``expose_pin``;
- a PIN held in another slot is refused (``duplicates``: said in ``bridge/logging``, or
  silently), and a lock at ``capacity`` refuses more codes (``MEMORY_FULL``);
- an offline lock (``set_online``) answers nothing; zigbee2mqtt logs the failed ``set``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import json
import threading
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import aiomqtt

__all__ = ["Duplicates", "LockBehaviour", "SimulatedLock", "Zigbee2MqttSimulator", "broker_answers"]

T = TypeVar("T")
_WAIT = 10.0
"""Bound on every call into the simulator's thread."""


class LockBehaviour(enum.StrEnum):
    """How a simulated lock answers slot reads."""

    READABLE = "readable"
    MASKED = "masked"
    WRITE_ONLY = "write_only"


class Duplicates(enum.StrEnum):
    """What a simulated lock does with a PIN it already holds in another slot."""

    REFUSE = "refuse"
    """Refuses it; zigbee2mqtt logs the failed publish with the lock's status."""
    REFUSE_SILENTLY = "refuse_silently"
    """Refuses it and nothing says so: the read-back shows the slot unchanged."""
    ACCEPT = "accept"


@dataclass
class SimulatedLock:
    """One keypad lock on the simulated zigbee network."""

    name: str
    ieee: str
    model: str = "YRD256HA20BP"
    vendor: str = "Yale"
    slots: int = 250
    expose_pin: bool = True
    behaviour: LockBehaviour = LockBehaviour.READABLE
    duplicates: Duplicates = Duplicates.REFUSE
    capacity: int | None = None
    """Codes the lock's memory holds at most (None: as many as it has slots)."""
    cache_state: bool = False
    online: bool = True
    battery: int = 87
    answer_delay: float = 0.0
    """Seconds before a slot read is answered (a sleepy battery lock)."""
    sleeps_after_set: bool = False
    """Takes a code, then answers no read until ``asleep`` is cleared (a write left unconfirmed)."""
    asleep: bool = False
    reads_before_sleep: int | None = None
    """Answers this many more reads, then sleeps (``asleep``) until woken."""
    users: dict[int, str] = field(default_factory=dict, repr=False)
    """Zigbee user id -> PIN of every occupied slot."""
    cached: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)


def broker_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether an MQTT broker accepts a connection at ``host:port`` within ``timeout``."""

    async def probe() -> bool:
        try:
            async with aiomqtt.Client(host, port, timeout=timeout):
                return True
        except (aiomqtt.MqttError, OSError):
            return False

    try:
        return asyncio.run(asyncio.wait_for(probe(), timeout + 1))
    except TimeoutError:
        return False


class Zigbee2MqttSimulator:
    """A zigbee2mqtt bridge and its locks, serving a (random by default) base topic."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, base_topic: str = "") -> None:
        self.host = host
        self.port = port
        self.base_topic = base_topic or f"doorcode-sim-{uuid.uuid4().hex[:10]}"
        self.locks: dict[str, SimulatedLock] = {}
        self.received: Counter[tuple[str, str]] = Counter()
        """(lock name, "set" or "get") -> publishes received: the lock's radio traffic."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="zigbee2mqtt simulator", daemon=True)
        self._client: aiomqtt.Client | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    # -- life --------------------------------------------------------------------------------

    def start(self) -> Zigbee2MqttSimulator:
        """Connect to the broker and publish the bridge; raises ``ConnectionError`` if none."""
        self._thread.start()
        if not self._ready.wait(_WAIT) or self._error is not None:
            self.stop()
            raise ConnectionError(
                f"the zigbee2mqtt simulator found no MQTT broker at {self.host}:{self.port}"
            ) from self._error
        self._do(self._publish_bridge())
        return self

    def stop(self) -> None:
        """Clear what it left retained on the broker and disconnect."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._do(self._clear_retained())
        if not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._cancel)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> Zigbee2MqttSimulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the world, from a test or a script -------------------------------------------------

    def add_lock(self, name: str, **settings: Any) -> SimulatedLock:
        """Pair a lock (``SimulatedLock``'s fields as keywords) and republish the device list."""
        ieee = settings.pop("ieee", f"0x{uuid.uuid4().hex[:16]}")
        lock = SimulatedLock(name, ieee, **settings)
        self.locks[name] = lock
        self._do(self._publish_bridge())
        return lock

    def set_online(self, name: str, online: bool) -> None:
        """zigbee2mqtt's availability for the lock changes (and the lock answers, or not)."""
        self.locks[name].online = online
        self._do(self._publish_availability(self.locks[name]))

    def keypad(self, name: str, pin: str) -> bool:
        """Someone types ``pin`` on the lock; True when the door opens."""
        lock = self.locks[name]
        user = next((u for u, held in lock.users.items() if held == pin), None)
        if user is None:
            action: dict[str, Any] = {
                "action": "unlock_failure_invalid_pin_or_id",
                "action_source_name": "keypad",
                "action_user": None,
            }
        else:
            action = {"action": "unlock", "action_source_name": "keypad", "action_user": user}
        self._do(self._publish_action(lock, action))
        return user is not None

    def put(self, name: str, user: int, pin: str | None) -> None:
        """Someone sets (or clears) a code at the lock itself: the lock reports the change."""
        lock = self.locks[name]
        self._do(self._program(lock, user, pin))

    def held(self, name: str) -> dict[int, str]:
        """Zigbee user id -> PIN of every occupied slot of the lock."""
        return dict(self.locks[name].users)

    # -- the bridge's side ------------------------------------------------------------------

    async def _serve(self) -> None:
        try:
            async with aiomqtt.Client(
                self.host, self.port, identifier=f"{self.base_topic}-bridge", timeout=5
            ) as client:
                await client.subscribe(f"{self.base_topic}/+/set", qos=0)
                await client.subscribe(f"{self.base_topic}/+/get", qos=0)
                self._client = client
                self._ready.set()
                async for message in client.messages:
                    await self._on_request(message)
        except aiomqtt.MqttError as err:
            self._error = err
            self._ready.set()
        finally:
            self._client = None

    async def _on_request(self, message: aiomqtt.Message) -> None:
        name, verb = str(message.topic)[len(self.base_topic) + 1 :].rsplit("/", 1)
        lock = self.locks.get(name)
        payload = message.payload if isinstance(message.payload, bytes) else b""
        try:
            body = json.loads(payload)
        except ValueError:
            return
        if lock is None or not isinstance(body, dict) or not isinstance(body.get("pin_code"), dict):
            return
        self.received[(name, verb)] += 1
        request: dict[str, Any] = body["pin_code"]
        user = request.get("user")
        if not isinstance(user, int):
            return
        if verb == "set":
            await self._on_set(lock, user, request)
        else:
            self._loop.create_task(self._on_get(lock, user))

    async def _on_set(self, lock: SimulatedLock, user: int, request: dict[str, Any]) -> None:
        if not lock.online:
            await self._log_failure(lock, "Timeout - device did not respond")
            return
        pin = request.get("pin_code")
        if pin is None:
            await self._program(lock, user, None)
            return
        pin = str(pin)
        status = self._refusal(lock, user, pin)
        if status is None:
            await self._program(lock, user, pin)
            lock.asleep = lock.sleeps_after_set
        elif status:
            await self._log_failure(lock, f"Status '{status}'")

    def _refusal(self, lock: SimulatedLock, user: int, pin: str) -> str | None:
        """The lock's status for a refused set ("" when it refuses without saying), or None."""
        if not 0 <= user < lock.slots:
            return "INVALID_VALUE"
        elsewhere = any(held == pin for u, held in lock.users.items() if u != user)
        if elsewhere and lock.duplicates is Duplicates.REFUSE:
            return "DUPLICATE_CODE"
        if elsewhere and lock.duplicates is Duplicates.REFUSE_SILENTLY:
            return ""
        full = lock.capacity is not None and len(lock.users) >= lock.capacity
        if full and user not in lock.users:
            return "MEMORY_FULL"
        return None

    async def _program(self, lock: SimulatedLock, user: int, pin: str | None) -> None:
        """The lock changes a slot and reports it with its programming event."""
        if pin is None:
            lock.users.pop(user, None)
            action = "pin_code_deleted"
        else:
            lock.users[user] = pin
            action = "pin_code_added"
        await self._publish_action(lock, {"action": action, "action_user": user})

    async def _on_get(self, lock: SimulatedLock, user: int) -> None:
        if lock.reads_before_sleep is not None:
            lock.asleep = lock.asleep or lock.reads_before_sleep <= 0
            lock.reads_before_sleep -= 1
        if not lock.online or lock.asleep or lock.behaviour is LockBehaviour.WRITE_ONLY:
            return
        if lock.answer_delay:
            await asyncio.sleep(lock.answer_delay)
        pin = lock.users.get(user)
        entry: dict[str, Any] = {"status": "enabled" if pin is not None else "available"}
        if pin is not None and lock.expose_pin and lock.behaviour is LockBehaviour.READABLE:
            entry["pin_code"] = pin
        lock.cached[str(user)] = entry
        users = dict(lock.cached) if lock.cache_state else {str(user): entry}
        await self._publish_state(lock, {"users": users})

    async def _publish_action(self, lock: SimulatedLock, action: dict[str, Any]) -> None:
        """The action once, then the state without it: ``action`` is transient."""
        if not lock.online:
            return
        await self._publish_state(lock, action)
        await self._publish_state(lock, {})

    async def _publish_state(self, lock: SimulatedLock, extra: dict[str, Any]) -> None:
        state: dict[str, Any] = {
            "battery": lock.battery,
            "linkquality": 112,
            "lock_state": "locked",
            "state": "LOCK",
        }
        if lock.cache_state:
            state["users"] = dict(lock.cached)
        await self._publish(lock.name, state | extra)

    async def _log_failure(self, lock: SimulatedLock, why: str) -> None:
        message = f"Publish 'set' 'pin_code' to '{lock.name}' failed: 'Error: {why}'"
        await self._publish("bridge/logging", {"level": "error", "message": message})

    async def _publish_bridge(self) -> None:
        await self._publish("bridge/state", {"state": "online"}, retain=True)
        await self._publish("bridge/devices", self._device_list(), retain=True)
        for lock in self.locks.values():
            await self._publish_availability(lock)

    async def _publish_availability(self, lock: SimulatedLock) -> None:
        state = {"state": "online" if lock.online else "offline"}
        await self._publish(f"{lock.name}/availability", state, retain=True)

    async def _clear_retained(self) -> None:
        client = self._client
        if client is None:
            return
        topics = ["bridge/state", "bridge/devices"]
        topics += [f"{name}/availability" for name in self.locks]
        for topic in topics:
            await client.publish(f"{self.base_topic}/{topic}", b"", qos=1, retain=True)

    async def _publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        client = self._client
        if client is None:
            raise ConnectionError("the zigbee2mqtt simulator is not connected")
        # A retained message waits for the broker's acknowledgement: whoever subscribes once
        # the call returns gets this one, not the one before.
        qos = 1 if retain else 0
        topic = f"{self.base_topic}/{topic}"
        await client.publish(topic, json.dumps(payload), qos=qos, retain=retain)

    def _device_list(self) -> list[dict[str, Any]]:
        coordinator = {
            "ieee_address": "0x00124b0000000000",
            "type": "Coordinator",
            "friendly_name": "Coordinator",
            "definition": None,
        }
        sensor = {
            "ieee_address": "0x00158d0000000001",
            "type": "EndDevice",
            "friendly_name": "Hall sensor",
            "power_source": "Battery",
            "definition": {
                "model": "RTCGQ11LM",
                "vendor": "Aqara",
                "description": "Motion sensor",
                "exposes": [{"type": "binary", "name": "occupancy", "property": "occupancy"}],
            },
        }
        return [coordinator, sensor, *(_device_entry(lock) for lock in self.locks.values())]

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self._serve())
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._task = None  # its traceback holds the client, which closes through this loop
        gc.collect()
        self._loop.close()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _do(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(_WAIT)


def _device_entry(lock: SimulatedLock) -> dict[str, Any]:
    """A lock as zigbee2mqtt lists it, with the ``pin_code`` composite expose."""
    pin_code = {
        "type": "composite",
        "name": "pin_code",
        "property": "pin_code",
        "features": [
            {"type": "numeric", "name": "user", "property": "user"},
            {"type": "enum", "name": "user_type", "property": "user_type"},
            {"type": "binary", "name": "user_enabled", "property": "user_enabled"},
            {"type": "numeric", "name": "pin_code", "property": "pin_code"},
        ],
    }
    lock_expose = {
        "type": "lock",
        "features": [{"type": "binary", "name": "state", "property": "state"}],
    }
    return {
        "ieee_address": lock.ieee,
        "type": "EndDevice",
        "friendly_name": lock.name,
        "power_source": "Battery",
        "interview_completed": True,
        "supported": True,
        "definition": {
            "model": lock.model,
            "vendor": lock.vendor,
            "description": "Keypad lock (simulated)",
            "exposes": [
                lock_expose,
                pin_code,
                {"type": "enum", "name": "action", "property": "action"},
                {"type": "numeric", "name": "action_user", "property": "action_user"},
                {"type": "numeric", "name": "battery", "property": "battery"},
            ],
        },
    }
