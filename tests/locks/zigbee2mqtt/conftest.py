"""A simulated zigbee2mqtt bridge on the real Mosquitto, one random base topic per test.

Every test here needs the broker at 127.0.0.1:1883 (``DOORCODE_TEST_MQTT``) and skips, saying
so, only when nothing answers there. The broker is shared with other test runs: nothing here
uses a fixed topic.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from doorcode.locks.base import ProviderAccount
from doorcode.locks.links import AccountLinks
from doorcode.locks.zigbee2mqtt import Zigbee2MqttProvider
from doorcode.locks.zigbee2mqtt.simulator import Zigbee2MqttSimulator, broker_answers

BROKER = os.environ.get("DOORCODE_TEST_MQTT", "127.0.0.1:1883")
HOST, _, PORT = BROKER.partition(":")
ANSWER_TIMEOUT = "1.5"
"""Seconds a slot read may take here before a write counts as accepted (10 in production)."""


@pytest.fixture(scope="session")
def broker() -> tuple[str, int]:
    if not broker_answers(HOST, int(PORT)):
        pytest.skip(f"no MQTT broker answers at {BROKER}")
    return HOST, int(PORT)


@pytest.fixture
def bridge(broker) -> Iterator[Zigbee2MqttSimulator]:
    """A zigbee2mqtt bridge with no lock yet, on a base topic of its own."""
    with Zigbee2MqttSimulator(*broker) as simulator:
        yield simulator


def account_of(bridge: Zigbee2MqttSimulator, **options: str) -> ProviderAccount:
    return ProviderAccount(
        "acc_zigbee",
        "org_test",
        "zigbee2mqtt",
        "Home zigbee",
        {},
        {
            "host": bridge.host,
            "port": str(bridge.port),
            "base_topic": bridge.base_topic,
            "answer_timeout": ANSWER_TIMEOUT,
        }
        | options,
    )


@pytest.fixture
def links() -> Iterator[AccountLinks]:
    """The process's long-lived links, as a registry keeps them; ended after the test."""
    kept = AccountLinks()
    yield kept
    kept.close()


@pytest.fixture
def zigbee(bridge, links) -> Callable[..., Zigbee2MqttProvider]:
    """A provider for the bridge, as one reconciler session builds it (options as keywords)."""

    def build(**options: str) -> Zigbee2MqttProvider:
        provider = Zigbee2MqttProvider.build(
            account_of(bridge, **options), http=None, clock=lambda: datetime.now(UTC), links=links
        )
        assert isinstance(provider, Zigbee2MqttProvider)
        return provider

    return build


def run(work):
    """One coroutine on a fresh loop, bounded (each CLI command runs its own loop too)."""
    return asyncio.run(asyncio.wait_for(work, 30))


def device_of(provider: Zigbee2MqttProvider, name: str) -> str:
    devices = run(provider.list_devices())
    return next(device.external_id for device in devices if device.name == name)
