"""Test peers for the conformance suite that run in this process: the TTLock and Nuki fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import FakeClock
from tests.locks.conformance.cloud_peers import NukiPeer, TtlockPeer
from tests.locks.fakes import nuki, ttlock
from tests.locks.fakes.serving import serve


@pytest.fixture
def ttlock_peer(clock: FakeClock) -> Iterator[TtlockPeer]:
    """The local TTLock cloud on 127.0.0.1, on the test's clock."""
    cloud = ttlock.TtlockCloud(clock)
    with serve(cloud.app()) as url:
        yield TtlockPeer(cloud, url)


@pytest.fixture
def nuki_peer(clock: FakeClock) -> Iterator[NukiPeer]:
    """The local Nuki Web API on 127.0.0.1, on the test's clock."""
    cloud = nuki.NukiCloud(clock)
    with serve(cloud.app()) as url:
        yield NukiPeer(cloud, url)
