"""doorcode: a unique, time-limited door code for every guest, on every smart lock, reconciled."""

__version__ = "0.1.0"
__all__ = ["__version__"]
