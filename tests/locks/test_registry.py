"""The provider registry builds what a command needs when it needs it: back-end classes on
first use, the shared virtual cloud once per process however many threads ask at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

from doorcode.domain.clock import Clock
from doorcode.locks.registry import BACKENDS, ProviderRegistry
from doorcode.locks.virtual import VirtualCloud, VirtualLockProvider


def test_every_back_end_kind_is_known_and_loads_its_class():
    assert sorted(BACKENDS) == ["nuki", "seam", "ttlock", "virtual", "zigbee2mqtt", "zwave_js"]
    for kind in BACKENDS:
        assert BACKENDS[kind].kind == kind


def test_the_shared_cloud_is_built_once_on_first_use_even_when_raced(clock: Clock):
    built = []
    gate = threading.Barrier(8)

    def make():
        built.append(1)
        return [VirtualLockProvider(VirtualCloud(clock))]

    registry = ProviderRegistry(make)
    assert built == []  # nothing yet: a listing never asks

    def ask(_):
        gate.wait(timeout=10)
        return registry.shared("virtual")

    with ThreadPoolExecutor(8) as pool:
        providers = list(pool.map(ask, range(8)))
    assert built == [1]
    assert len({id(provider) for provider in providers}) == 1
    assert registry.virtual_cloud is providers[0].cloud


def test_a_registry_without_shared_providers_still_serves_every_kind_by_class():
    registry = ProviderRegistry()
    assert registry.kinds == ["nuki", "seam", "ttlock", "virtual", "zigbee2mqtt", "zwave_js"]
    assert "ttlock" in registry
    assert "august" not in registry
    assert registry.backend("virtual") is VirtualLockProvider
