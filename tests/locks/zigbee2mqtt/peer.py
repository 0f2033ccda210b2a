"""The conformance suite's view of zigbee2mqtt: the simulated bridge on the real Mosquitto.

Slots carry no names, so ``held`` names a slot by what doorcode recorded there (the grant's
tag), or by the name it was put there under by hand; a crash "behind our back" is what the
reconciler's own crash leaves: the slot recorded for the grant, the PIN on the lock, and no
result recorded.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from doorcode.domain.windows import TimeWindow
from doorcode.locks.tags import tag_for
from doorcode.locks.zigbee2mqtt.simulator import Zigbee2MqttSimulator, broker_answers
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller
from doorcode.services.lock_import import import_locks
from doorcode.services.provider_accounts import account_request, connect_account
from doorcode.store.models import Lock, LockCode
from tests.conftest import FakeClock
from tests.locks.zigbee2mqtt.conftest import ANSWER_TIMEOUT, HOST, PORT

OWNER_SLOT = 0
"""The zigbee user (doorcode's slot 1) where a code set by hand goes: the owner's slots."""


class Zigbee2MqttPeer:
    """A simulated bridge whose locks are Schlage BE468s (30 slots; doorcode owns 4 to 30).

    A slot lock keeps no schedule, so doorcode writes a code only when its window begins, not
    72 h ahead as on the clouds the suite was written for: adding the locks moves the suite's
    clock to the afternoon of the first stay's check-in day, when that stay's code is due and
    the later stays' are not, which is what every test of the suite expects.
    """

    def __init__(self, bridge: Zigbee2MqttSimulator, clock: FakeClock) -> None:
        self.bridge = bridge
        self.clock = clock
        self.names: dict[tuple[str, int], str] = {}

    def add_locks(self, runtime: Runtime, owner: Caller, names: list[str]) -> list[Lock]:
        self.clock.advance(days=1, hours=5)
        for name in names:
            self.bridge.add_lock(name, model="BE468", vendor="Schlage", slots=30)
        options = {
            "host": self.bridge.host,
            "port": str(self.bridge.port),
            "base_topic": self.bridge.base_topic,
            "answer_timeout": ANSWER_TIMEOUT,
        }
        request = account_request(runtime.providers, "zigbee2mqtt", "Zigbee", {}, options)
        connect_account(runtime.uow(), owner, request)
        asyncio.run(import_locks(runtime.uow, runtime.providers, runtime.clock, owner, "Zigbee"))
        with runtime.uow() as uow:
            ieee = [self.bridge.locks[name].ieee for name in names]
            return [uow.locks.find(owner.organisation_id, device) for device in ieee]

    def held(self, runtime: Runtime, lock: Lock) -> list[tuple[str, str | None]]:
        recorded = self._recorded(runtime, lock)
        return [
            (self._name(lock, user + 1, recorded), pin)
            for user, pin in sorted(self.bridge.held(lock.name).items())
        ]

    def confirm_all(self, runtime: Runtime) -> None:
        return None  # every write is read back at once

    def put_behind_our_back(
        self, runtime: Runtime, lock: Lock, name: str, pin: str, window: TimeWindow
    ) -> None:
        grant_id = next((g for g in self._grants(runtime, lock) if tag_for(g) == name), None)
        if grant_id is None:
            self.names[(lock.id, OWNER_SLOT + 1)] = name
            self.bridge.put(lock.name, OWNER_SLOT, pin)
            return
        slot = 4  # the first slot doorcode owns on a BE468
        with runtime.uow() as uow:
            assert uow.lock_sync.reserve_slot(lock.id, grant_id, slot)
            uow.commit()
        self.bridge.put(lock.name, slot - 1, pin)

    def _name(self, lock: Lock, slot: int, recorded: dict[int, str]) -> str:
        if slot in recorded:
            return tag_for(recorded[slot])
        return self.names.get((lock.id, slot), f"slot {slot}")

    @staticmethod
    def _recorded(runtime: Runtime, lock: Lock) -> dict[int, str]:
        with runtime.uow() as uow:
            rows = uow.session.execute(
                select(LockCode.slot, LockCode.grant_id).where(
                    LockCode.lock_id == lock.id, LockCode.slot.is_not(None)
                )
            ).all()
        return dict(rows)

    @staticmethod
    def _grants(runtime: Runtime, lock: Lock) -> list[str]:
        with runtime.uow() as uow:
            return list(
                uow.session.scalars(select(LockCode.grant_id).where(LockCode.lock_id == lock.id))
            )


def zigbee2mqtt_peer(request: pytest.FixtureRequest) -> Zigbee2MqttPeer:
    """A bridge on a random base topic, stopped after the test; skips without a broker."""
    if not broker_answers(HOST, int(PORT)):
        pytest.skip(f"no MQTT broker answers at {HOST}:{PORT}")
    bridge = Zigbee2MqttSimulator(HOST, int(PORT)).start()
    request.addfinalizer(bridge.stop)
    return Zigbee2MqttPeer(bridge, request.getfixturevalue("clock"))
