"""Lock capabilities as the JSON kept in ``locks.capabilities`` (the codec lives in the domain)."""

from doorcode.domain.lock_capabilities import capabilities_from_json, capabilities_to_json

__all__ = ["capabilities_from_json", "capabilities_to_json"]
