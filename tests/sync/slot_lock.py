"""An in-memory slot-addressed lock (numbered user-code slots, no names) for reconciler tests.

It behaves as the Z-Wave and Zigbee locks the real back-ends drive do, as far as the slot
discipline cares: slots 1..size, a PIN refused when another slot holds it, reads that mask PINs
on some models, every write and single-slot read counted as radio traffic. A write-only device
is never read: its listing holds only the slots this process wrote, and ``restart`` (a new
process) forgets them, as zigbee2mqtt's link does for a lock that answers no reads. The real
stacks are tested in tests/locks/ against their own peers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import (
    Abilities,
    Addressing,
    CodeState,
    Device,
    LockProvider,
    NewCode,
    ProviderCode,
)
from doorcode.locks.errors import (
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    UnknownDevice,
)


class Killed(Exception):
    """The process died right after the device took a write, before anything was recorded."""


@dataclass
class SlotDevice:
    size: int
    masked: bool = False
    write_only: bool = False
    slots: dict[int, str] = field(default_factory=dict)
    known: set[int] = field(default_factory=set)
    """On a write-only device: the slots this process wrote (all it can list)."""


class SlotLockProvider(LockProvider):
    """A BY_SLOT back-end over ``SlotDevice``s, registered under the kind ``virtual``."""

    kind = "virtual"
    abilities = Abilities(native_scheduling=False, addressing=Addressing.BY_SLOT)

    def __init__(self) -> None:
        self.devices: dict[str, SlotDevice] = {}
        self.radio: Counter[str] = Counter()
        self.kill_after_write = False
        self.unreachable = False

    def add(
        self, device_id: str, size: int, *, masked: bool = False, write_only: bool = False
    ) -> SlotDevice:
        device = SlotDevice(size, masked, write_only)
        self.devices[device_id] = device
        return device

    def _device(self, device_id: str) -> SlotDevice:
        device = self.devices.get(device_id)
        if device is None:
            raise UnknownDevice("no such device")
        return device

    async def list_devices(self) -> list[Device]:
        return [
            Device(name, name, LockCapabilities(max_codes=d.size, native_scheduling=False))
            for name, d in self.devices.items()
        ]

    def restart(self) -> None:
        """A new doorcode process: what it knew of write-only devices is gone."""
        for device in self.devices.values():
            device.known.clear()

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        device = self._device(device_id)
        if self.unreachable:
            raise LockOffline("the lock does not answer")
        listed = device.known & set(device.slots) if device.write_only else set(device.slots)
        return [self._code(device, slot) for slot in sorted(listed)]

    async def lists_every_code(self, device_id: str) -> bool:
        return not self._device(device_id).write_only

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        device = self._device(device_id)
        slot = code.slot
        assert slot is not None, "the reconciler always names the slot"
        if not 1 <= slot <= device.size:
            raise NoSpaceLeft("no such slot on this lock")
        if any(pin == code.code and n != slot for n, pin in device.slots.items()):
            raise DuplicateCode("the lock holds these digits in another slot")
        self.radio["write"] += 1
        device.slots[slot] = code.code
        device.known.add(slot)
        if self.kill_after_write:
            raise Killed("killed after the write")
        if device.write_only:
            return ProviderCode(str(slot), "", None, state=CodeState.SET)
        self.radio["read"] += 1
        return self._code(device, slot)

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        raise NotSupported("slots carry no schedule")

    async def delete_code(self, device_id: str, code_id: str) -> None:
        device = self._device(device_id)
        self.radio["write"] += 1
        self.radio["read"] += 1
        device.slots.pop(int(code_id), None)
        device.known.discard(int(code_id))

    @staticmethod
    def _code(device: SlotDevice, slot: int) -> ProviderCode:
        pin = None if device.masked or device.write_only else device.slots[slot]
        return ProviderCode(str(slot), "", pin, state=CodeState.SET)
