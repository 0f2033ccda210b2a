"""zigbee2mqtt locks over MQTT: the provider, its long-lived link, and a lock simulator.

From a script (``bench/radio.py``), the radio an account's locks carried so far::

    from doorcode.locks.zigbee2mqtt import radio_operations
    ops = radio_operations(runtime.providers.links, account_id)
    ops.sets, ops.gets, ops.by_device          # publishes to <device>/set and <device>/get
"""

from doorcode.locks.links import AccountLinks
from doorcode.locks.zigbee2mqtt.link import LinkSettings, RadioOperations, Zigbee2MqttLink
from doorcode.locks.zigbee2mqtt.provider import Zigbee2MqttProvider

__all__ = [
    "LinkSettings",
    "RadioOperations",
    "Zigbee2MqttLink",
    "Zigbee2MqttProvider",
    "radio_operations",
]


def radio_operations(links: AccountLinks, account_id: str) -> RadioOperations:
    """What the account's links in this process published to its locks (zero if none ran)."""
    link = links.find(f"{Zigbee2MqttProvider.kind}:{account_id}")
    return link.operations if isinstance(link, Zigbee2MqttLink) else RadioOperations()
