"""The Z-Wave back-end: locks on a Z-Wave JS server (Z-Wave JS UI, Home Assistant's add-on)."""

from doorcode.locks.zwave_js.provider import ZwaveJsProvider
from doorcode.locks.zwave_js.radio import RADIO, RadioKind

__all__ = ["RADIO", "RadioKind", "ZwaveJsProvider"]
