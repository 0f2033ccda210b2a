"""The TTLock Open API back-end: ``TtlockProvider`` and its callback parser."""

from doorcode.locks.ttlock.events import parse_ttlock_webhook
from doorcode.locks.ttlock.provider import TtlockProvider

__all__ = ["TtlockProvider", "parse_ttlock_webhook"]
