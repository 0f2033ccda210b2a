"""doorcode: a unique, time-limited door code for every guest, on every smart lock, reconciled."""

import zoneinfo

# Every deployment must compute the same windows, so time-zone rules come from the pinned
# tzdata package, never from whatever the host OS ships (zoneinfo prefers the OS otherwise).
zoneinfo.reset_tzpath(to=[])

__version__ = "0.1.0"
__all__ = ["__version__"]
