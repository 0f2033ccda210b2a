"""The gate every guest message passes: is the grant's current code on every one of its locks?

Lock sync records a ``GrantCodesSet`` event (details ``{"after": {"version": v}}``) when
every lock of a grant holds version ``v``. Until the lock-code rows say so directly, that
event is the evidence; this is the one function to change when they do.
"""

from __future__ import annotations

from doorcode.store.models import Grant
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["codes_set_everywhere"]


def codes_set_everywhere(uow: UnitOfWork, grant: Grant) -> bool:
    """Whether every lock of ``grant`` holds its current version (code and window)."""
    return grant.version in uow.messages.code_set_versions(grant.organisation_id, grant.id)
