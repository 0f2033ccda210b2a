"""How doorcode recognises its own codes on a lock: a name carrying the grant id.

Locks also hold codes their owner set by hand; doorcode must never touch those. Every code it
creates is named ``doorcode <grant id>``, so after a crash it can adopt what it created but did
not get to record, and remove what no longer belongs, without a database of its own on the lock.

A vendor's offline code (TTLock ``keyboardPwd/get``, Seam's offline access codes) may show up
in the same listing. It is named ``doorcode offline <grant id>``: not a code the reconciler
writes or removes (nothing on the lock holds it: the lock computes it), and not the owner's.

Some back-ends limit names (Seam reports ``name_length`` per device); the tag is 30 characters,
and an adapter for a lock with less room must map it to something shorter and reversible.
"""

from __future__ import annotations

import re

__all__ = ["TAG_PREFIX", "grant_id_from_tag", "is_offline_tag", "offline_tag_for", "tag_for"]

TAG_PREFIX = "doorcode "
_TAG = re.compile(r"^doorcode\s+(grt_[a-z0-9]{1,60})$")
_OFFLINE_TAG = re.compile(r"^doorcode\s+offline\s+grt_[a-z0-9]{1,60}$")


def tag_for(grant_id: str) -> str:
    """The name doorcode gives the code of ``grant_id`` on every lock."""
    return f"{TAG_PREFIX}{grant_id}"


def grant_id_from_tag(name: str | None) -> str | None:
    """The grant id a code's name carries, or None for a code doorcode did not create."""
    if not name:
        return None
    found = _TAG.match(name.strip())
    return found.group(1) if found else None


def offline_tag_for(grant_id: str) -> str:
    """The name doorcode gives a vendor's offline code issued for ``grant_id``."""
    return f"{TAG_PREFIX}offline {grant_id}"


def is_offline_tag(name: str | None) -> bool:
    """Whether a code's name says it is a vendor offline code doorcode asked for."""
    return bool(name) and _OFFLINE_TAG.match((name or "").strip()) is not None
