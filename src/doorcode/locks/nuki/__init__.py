"""The Nuki Web API back-end: ``NukiProvider`` and its webhook parser."""

from doorcode.locks.nuki.events import parse_nuki_webhook
from doorcode.locks.nuki.provider import NukiProvider

__all__ = ["NukiProvider", "parse_nuki_webhook"]
