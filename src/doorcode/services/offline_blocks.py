"""The block list of an offline key group: codes that must never open its locks again.

Revoking an offline grant cannot reach a lock without a network, so it adds the code here; a
person then types the block sequence at the keypad (``doorcode offline blocks``).
"""

from __future__ import annotations

from doorcode.domain.windows import TimeWindow
from doorcode.services.audit import record_event
from doorcode.services.caller import Caller
from doorcode.store.models import Grant, OfflineBlock, OfflineKeyGroup
from doorcode.store.unit_of_work import UnitOfWork

__all__ = ["SUBJECT", "add_block", "block_revoked_grant"]

SUBJECT = "offline_key_group"


def block_revoked_grant(uow: UnitOfWork, caller: Caller, grant: Grant) -> None:
    """Block a revoked offline grant's code; part of the revoking transaction."""
    if grant.offline_key_group_id is None:
        return
    group = uow.offline.find(caller.organisation_id, grant.offline_key_group_id)
    if group is not None:
        window = TimeWindow(grant.starts_at, grant.ends_at)
        add_block(uow, caller, group, uow.grants.code_of(grant), window, grant.id)


def add_block(
    uow: UnitOfWork,
    caller: Caller,
    group: OfflineKeyGroup,
    code: str,
    window: TimeWindow,
    grant_id: str | None,
) -> None:
    """Put ``code`` (which carries ``window``) on the group's block list under its current key."""
    block = OfflineBlock(
        organisation_id=caller.organisation_id,
        key_group_id=group.id,
        grant_id=grant_id,
        key_version=group.key_version,
        window_starts_at=window.starts_at,
        window_ends_at=window.ends_at,
        blocked_at=uow.now,
    )
    uow.offline.add_block(block, code)
    uow.flush()
    record_event(
        uow,
        caller,
        (SUBJECT, group.id),
        "OfflineCodeBlocked",
        "type the block sequence at each lock of the group",
        after={"block_id": block.id, "grant_id": grant_id},
    )
