"""The clock is an argument everywhere, so tests decide what time it is."""

from collections.abc import Callable
from datetime import datetime

__all__ = ["Clock"]

Clock = Callable[[], datetime]
"""Returns the current instant as an aware UTC datetime."""
