"""Pairing virtual locks: each ``virtual`` lock in the database gets its simulated device.

A real lock exists before doorcode hears of it; a virtual one exists once doorcode records it.
This installs (or updates) the device with the capabilities the lock was recorded with, so
the simulation refuses exactly what the record says the lock would.
"""

from __future__ import annotations

from doorcode.locks.virtual import VirtualLockProvider
from doorcode.runtime import Runtime

__all__ = ["install_virtual_locks"]


def install_virtual_locks(runtime: Runtime) -> int:
    """Install every virtual lock's device in the virtual cloud; returns how many.

    None while the cloud has no data directory to live in (PostgreSQL, before any ``init``,
    ``serve``, ``worker`` or ``demo``): the one of those that makes it installs them all.
    """
    cloud = runtime.providers.virtual_cloud
    if cloud is None or not cloud.has_home():
        return 0
    with runtime.uow() as uow:
        devices = uow.lock_sync.devices_of(VirtualLockProvider.kind)
    cloud.install_many((d.external_id, d.name, d.capabilities) for d in devices)
    return len(devices)
