"""Who is asking: an organisation, an actor name for the audit log, and a role."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from doorcode.services.errors import PermissionDenied

__all__ = ["Caller", "Role"]


class Role(enum.StrEnum):
    """What a user or API key may do; the same roles serve people and machines."""

    OWNER = "owner"
    MANAGER = "manager"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party behind a request, as the services see it."""

    organisation_id: str
    actor: str
    role: Role

    @property
    def can_write(self) -> bool:
        """Owners and managers change locks, reservations and codes; viewers only look."""
        return self.role in (Role.OWNER, Role.MANAGER)

    @property
    def can_see_codes(self) -> bool:
        """Viewers never see a code in clear."""
        return self.can_write

    def require_writer(self) -> None:
        """Refuse a change requested by a viewer."""
        if not self.can_write:
            raise PermissionDenied("this role may only read")

    def require_owner(self) -> None:
        """Refuse account administration to anyone but an owner."""
        if self.role is not Role.OWNER:
            raise PermissionDenied("only an owner may do this")
