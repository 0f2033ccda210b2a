"""zigbee2mqtt locks over MQTT: the provider, its long-lived link, and a lock simulator."""

from doorcode.locks.zigbee2mqtt.link import LinkSettings, RadioOperations, Zigbee2MqttLink
from doorcode.locks.zigbee2mqtt.provider import Zigbee2MqttProvider

__all__ = ["LinkSettings", "RadioOperations", "Zigbee2MqttLink", "Zigbee2MqttProvider"]
