"""The demo's zigbee lock: a simulated zigbee2mqtt bridge, when an MQTT broker answers.

``doorcode demo`` calls ``start_demo_zigbee`` after building the demo world. If a broker
answers at ``DOORCODE_DEMO_MQTT`` (default 127.0.0.1:1883), a simulated zigbee2mqtt bridge
with one Yale keypad lock (250 slots) joins the demo as Flat 2B's terrace door: connected as an
owner would connect zigbee2mqtt (a ``zigbee2mqtt`` provider account), imported, and linked to
Flat 2B, so the reconciler writes each of its guests' codes into a slot of its own (Sofia's,
arriving today, first). Without
a broker nothing changes: the demo runs without it and says so.

The bridge lives in the demo process; its base topic is derived from the data directory, so
a restarted demo finds its own account and lock again (the simulated lock starts empty and
the reconciler writes the codes again), and two demos on one broker never meet.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from doorcode.demo_world import run_apart
from doorcode.domain.errors import DomainError
from doorcode.locks.zigbee2mqtt.simulator import Zigbee2MqttSimulator, broker_answers
from doorcode.runtime import Runtime
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import ServiceError
from doorcode.services.lock_import import import_locks
from doorcode.services.properties import link_lock
from doorcode.services.provider_accounts import account_request, connect_account

__all__ = ["GATE", "DemoZigbee", "start_demo_zigbee"]

GATE = "Flat 2B terrace door"
ACCOUNT = "Demo zigbee"
PROPERTY = "augusta-2b"
BROKER_ENV = "DOORCODE_DEMO_MQTT"


@dataclass
class DemoZigbee:
    """The running bridge (stop it when the demo ends) and what to tell the operator."""

    bridge: Zigbee2MqttSimulator | None
    message: str

    def stop(self) -> None:
        """Stop the simulated bridge, if one runs."""
        if self.bridge is not None:
            self.bridge.stop()


def start_demo_zigbee(runtime: Runtime, organisation_slug: str) -> DemoZigbee:
    """Add the simulated zigbee lock to the demo if a broker answers; never fail the demo."""
    host, _, port_text = os.environ.get(BROKER_ENV, "127.0.0.1:1883").partition(":")
    port = int(port_text or "1883")
    if not broker_answers(host, port):
        return DemoZigbee(
            None, f"zigbee: no MQTT broker at {host}:{port}; demo without its zigbee lock"
        )
    digest = hashlib.sha256(str(runtime.settings.data_dir.resolve()).encode()).hexdigest()
    bridge = Zigbee2MqttSimulator(host, port, base_topic=f"doorcode-demo-{digest[:10]}")
    try:
        bridge.start()
        lock = bridge.add_lock(GATE, ieee=f"0x{digest[10:26]}", model="YRD256HA20BP")
        _join_the_demo(runtime, organisation_slug, host, port, bridge.base_topic)
    except (ConnectionError, ServiceError, DomainError) as err:
        bridge.stop()
        return DemoZigbee(
            None, f"zigbee: the simulated zigbee lock could not join the demo ({err})"
        )
    return DemoZigbee(
        bridge,
        f"zigbee: '{GATE}' is a simulated zigbee2mqtt lock on mqtt://{host}:{port} "
        f"(base topic {bridge.base_topic}, device {lock.ieee}); its slots 4-250 are doorcode's",
    )


def _join_the_demo(runtime: Runtime, slug: str, host: str, port: int, base_topic: str) -> None:
    with runtime.uow() as uow:
        organisation = uow.organisations.by_slug(slug)
    if organisation is None:
        raise ConnectionError(f"no organisation {slug!r}")
    owner = Caller(organisation.id, "demo", Role.OWNER)
    options = {"host": host, "port": str(port), "base_topic": base_topic}
    request = account_request(runtime.providers, "zigbee2mqtt", ACCOUNT, {}, options)
    connect_account(runtime.uow(), owner, request)
    run_apart(lambda: import_locks(runtime.uow, runtime.providers, runtime.clock, owner, ACCOUNT))
    link_lock(runtime.uow(), owner, PROPERTY, GATE)
