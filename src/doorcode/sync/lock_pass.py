"""One pass over one lock: read its codes, plan, diff, apply, and say what the rows become.

The failure policy of this layer lives here: a ``ProviderError`` is caught per operation,
recorded as ``last_error`` with its next attempt, and the pass moves on (or stops the lock,
when the error's scope is the whole lock). Any other exception ends this lock's pass: the
reconciler turns it into ``crashed`` (recorded on the lock, alerted, retried with backoff),
so a bug or bad data in one lock never stops the pass of another.

Nothing here touches the database: the pass starts from a ``LockRecord`` and ends with a
``LockResult`` (new sync states and event drafts) that the reconciler writes in one go.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from random import Random
from typing import Any

from doorcode.domain.lock_code_status import NOT_PROGRAMMABLE
from doorcode.domain.planner import DesiredCode, GrantOnLock, LockPlan, codes_clash, plan_lock
from doorcode.domain.slots import choose_slot
from doorcode.domain.windows import TimeWindow, vendor_issue_window
from doorcode.locks.base import (
    Addressing,
    CodeState,
    LockProvider,
    NewCode,
    ProviderAccount,
    ProviderCode,
)
from doorcode.locks.errors import (
    CodeNotFound,
    DuplicateCode,
    LockOffline,
    NoSpaceLeft,
    NotSupported,
    ProviderAuthFailed,
    ProviderError,
    ProviderNotConfigured,
    RateLimited,
    UnknownDevice,
)
from doorcode.locks.health import LockHealth
from doorcode.locks.registry import ProviderSession
from doorcode.locks.tags import offline_tag_for, tag_for
from doorcode.store.code_cipher import UnreadableSecret
from doorcode.store.lock_sync import (
    ABSENT,
    PRESENT,
    LockCodeRecord,
    LockCodeState,
    LockRecord,
    LockSyncState,
)
from doorcode.sync.diff import Action, Create, Delete, Update, diff, split_by_owner
from doorcode.sync.outcomes import EventDraft, LockOutcome, LockResult
from doorcode.sync.pulled_backups import BackupRemoval, remove_retired_backups
from doorcode.sync.rate_limit import RateLimiter
from doorcode.sync.retry import PassCrashed, Scope, next_attempt_at, pause_after, policy_for
from doorcode.sync.slot_codes import SlotListing, slot_number, sort_by_slot
from doorcode.sync.vendor_offline import BACKUP_PULLED, IssuedVendorCode

__all__ = ["LockPass", "PassContext"]

logger = logging.getLogger(__name__)

_PIN_RECHECK = timedelta(minutes=1)
"""How soon to look again when a PIN waits for its twin to leave the lock."""
HEALTH_EVERY = timedelta(hours=1)
"""How often a pass also asks the back-end how the lock is (online, battery)."""
_STRAY_RECHECK = timedelta(minutes=5)
"""How soon to try again to clear a stray code from doorcode's slots after a failure."""
BACKUP_AHEAD = timedelta(minutes=30)
"""A back-end with a backup pool (Seam) keeps a time-bound code ``unset`` until shortly before
it starts: merely accepted this close to the stay's start, the code is late."""

SlotReservation = Callable[[str, str, int, str | None], Awaitable[bool]]
"""Holds (lock id, grant id, slot) in the database before the code is written there, with the
code token about to be written (None: unknown); False when another grant holds the slot
(reserved by a pass in another process)."""
_RESERVATION_TRIES = 3
"""Slots a pass tries to reserve for one code before leaving it to the next pass."""
_SLOT_RECHECK = timedelta(minutes=1)
"""How soon to try again when other passes took every slot this one tried."""


@dataclass(frozen=True, slots=True)
class PassContext:
    """What every pass of a batch shares."""

    providers: ProviderSession
    limiter: RateLimiter
    reveal: Callable[[str], str]
    rng: Random
    now: datetime
    force: bool
    reserve_slot: SlotReservation
    accounts: Mapping[str, ProviderAccount] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)
    """Accounts whose credentials the back-end refused, with why: their locks stay stopped."""
    fallback_before: timedelta = timedelta(hours=24)
    """How close to its start a grant whose PIN an offline lock missed gets a vendor code."""


class LockPass:
    """Reconcile one lock once."""

    def __init__(self, lock: LockRecord, context: PassContext) -> None:
        self.lock = lock
        self.context = context
        self.now = context.now
        self.rows = {code.grant_id: code for code in lock.codes}
        self.outcome = LockOutcome(lock.id, lock.name)
        self.events: list[EventDraft] = []
        self.on_lock: dict[str, list[ProviderCode]] = {}
        self.theirs: list[ProviderCode] = []
        self.confirmed: dict[str, ProviderCode] = {}
        self.created: set[str] = set()
        self.failures: dict[str, ProviderError] = {}
        self.deferred: dict[str, datetime] = {}
        self.halted_until: datetime | None = None
        self.creates_blocked_until: datetime | None = None
        self.lock_error: ProviderError | None = None
        self.refused: str | None = None
        self.slots = {row.grant_id: row.slot for row in lock.codes if row.slot is not None}
        self.slot_listing = SlotListing((), ())
        self.strays_due_at: datetime | None = None
        self.issued: dict[str, IssuedVendorCode] = {}
        self.retired_backups = BackupRemoval()
        self.inventoried = False
        """The pass completed the listing and records the codes it found."""
        self.written: dict[str, str] = {}
        """Grant id -> code token whose PIN this pass wrote, or read back, on the lock."""

    async def run(self) -> LockResult:
        """Bring the lock to its desired codes as far as the back-end lets us."""
        if not self.lock.capabilities.online:
            return await self._offline_only()
        account_id = self.lock.account_id
        if account_id is not None and account_id in self.context.refused:
            return self._stopped(self.context.refused[account_id])
        waiting = self._backoff_of_lock()
        if waiting is not None:
            return self._skipped("backing off after the last failure", waiting)
        try:
            account = self.context.accounts.get(account_id) if account_id else None
            provider = self.context.providers.for_account(account)
        except ProviderError as err:
            return self._unreachable(err)
        paused = self.context.limiter.paused_until(self.lock.account_key)
        if paused is not None:
            return self._skipped(f"{provider.kind} asked us to wait", paused)
        try:
            listed = await self._listing(provider)
        except ProviderError as err:
            return self._unreachable(err)
        result = await self._reconcile(provider, listed)
        return replace(result, health=await self._health(provider), gone=False)

    async def _listing(self, provider: LockProvider) -> list[ProviderCode]:
        """The lock's codes; on a slot lock not read back, with those our records put there."""
        listed = await provider.list_codes(self.lock.external_id)
        if provider.abilities.addressing is not Addressing.BY_SLOT:
            return listed
        if await provider.lists_every_code(self.lock.external_id):
            return listed
        return [*listed, *self._recorded_codes(listed)]

    def _recorded_codes(self, listed: list[ProviderCode]) -> list[ProviderCode]:
        """Slots our records say hold a code that a lock not read back did not list.

        Such a lock lists only what this process wrote or heard, so after a restart a guest's
        code is missing from it. It counts as there while its row says so, and, once its grant
        is over, while the records do not show it cleared: clearing an empty slot is harmless,
        a code left after its window is not. The stand-in has no PIN, so the plan would take
        it for whatever PIN is due: it passes for the grant's code only when the lock took the
        grant's current version. An older version (the PIN changed since) or a write the lock
        never confirmed (no read will now) stands in as failed: cleared, and written again into
        the grant's slot if still wanted.
        """
        shown = {slot_number(code) for code in listed}
        found: list[ProviderCode] = []
        for slot, grant_id in self._slot_holders().items():
            row = self.rows.get(grant_id)
            if row is None or slot in shown or not self._may_hold(row):
                continue
            right = not _live(row, self.now) or row.state.confirmed_version == row.version
            state = CodeState.SET if right else CodeState.FAILED
            found.append(ProviderCode(str(slot), "", None, state=state))
        return found

    def _may_hold(self, row: LockCodeRecord) -> bool:
        """Whether the row's slot may hold its code, by the records alone."""
        state = row.state
        if state.actual == PRESENT:
            return True
        if _live(row, self.now):
            return False
        cleared = state.desired == ABSENT and state.wait_reason is None and row.visited
        return not cleared

    async def _health(self, provider: LockProvider) -> LockHealth | None:
        """The lock's health, at most every ``HEALTH_EVERY`` and never while the account is
        paused after a 429; a failure to say is no failure."""
        checked = self.lock.health_checked_at
        if checked is not None and self.now - checked < HEALTH_EVERY:
            return None
        if self._account_paused():
            return None  # asked for a break: health waits like every other call
        try:
            return await provider.health(self.lock.external_id)
        except ProviderError:
            return None

    def crashed(self, error: BaseException) -> LockResult:
        """The pass raised ``error`` unexpectedly: only the lock's own state records it."""
        return replace(self._unreachable(PassCrashed.of(error)), crashed=True)

    async def _reconcile(self, provider: LockProvider, listed: list[ProviderCode]) -> LockResult:
        capabilities = self.lock.capabilities
        by_slot = provider.abilities.addressing is Addressing.BY_SLOT
        if by_slot:
            owned = self.lock.slots
            if owned is None:
                return self._unreachable(NotSupported(_UNKNOWN_SLOTS))
            first_inventory = self.lock.state.inventoried_at is None
            owners = None if first_inventory else self.lock.state.unmanaged_codes
            self.slot_listing = sort_by_slot(listed, owned, self._slot_holders(), owners)
            listed = list(self.slot_listing.codes)
            # Slots outside the range are the owner's anyway: only the range limits ours.
            capabilities = replace(capabilities, max_codes=owned.size)
            await self._clear_strays(provider)
        # Backups no grant holds leave first: a pull below must not hand one out again.
        self.retired_backups = await remove_retired_backups(provider, self.lock, self.now)
        self.events += self.retired_backups.events
        if self.retired_backups.rate_limited is not None:
            self._halt_for_rate_limit(self.retired_backups.rate_limited)
        # A backup left on the lock is as unfinished as any code of ours (lock removal counts).
        self.outcome.deleted += len(self.retired_backups.removed)
        self.outcome.failed += self.retired_backups.failed
        ours, theirs = split_by_owner(listed)
        self.on_lock = {grant_id: list(codes) for grant_id, codes in ours.items()}
        self.theirs = theirs
        occupied = len(theirs)
        if by_slot and self.lock.slots is not None:
            occupied = sum(1 for code in theirs if slot_number(code) in self.lock.slots)
        plan = plan_lock(self._grants(), capabilities, self.now, occupied=occupied)
        written = self._written_pins(plan.desired, ours)
        actions = diff(plan.desired, ours, provider.resolution, written)
        self._confirm_untouched(plan.desired, actions)
        await self._pull_backups(provider, plan)
        for action in actions:
            await self._apply(provider, action)
        if self._lock_offline():
            await self._pull_backups(provider, plan)  # the lock went offline during this pass
        await self._fall_back_to_vendor_codes(provider, plan)
        self._note_unmanaged(theirs)
        return self._result(plan, tuple(code.code_id for code in theirs))

    # -- planning input ------------------------------------------------------------------------

    def _grants(self) -> list[GrantOnLock]:
        """The lock's grants for the planner; codes are decrypted only where they are due."""
        grants = []
        for row in self.rows.values():
            grant = GrantOnLock(
                row.grant_id,
                TimeWindow(row.starts_at, row.ends_at),
                row.version,
                revoked_at=row.revoked_at,
                leads=row.leads,
                spare=row.spare,
            )
            if grant.needs_code(self.lock.capabilities, self.now):
                grant = replace(grant, code=self.context.reveal(row.code_token))
            grants.append(grant)
        return grants

    def _written_pins(
        self, desired: tuple[DesiredCode, ...], ours: Mapping[str, list[ProviderCode]]
    ) -> dict[str, str]:
        """The PIN doorcode last wrote to this lock, for each wanted grant listed without one.

        A lock that masks PINs lists the grant's code but not its digits: only this record
        tells the current PIN from one written before the grant's code changed. A record the
        keys no longer decrypt is no record: the code is written again.
        """
        pins: dict[str, str] = {}
        for code in desired:
            row = self.rows.get(code.grant_id)
            masked = any(found.code is None for found in ours.get(code.grant_id, []))
            if row is None or not masked or row.written_code_token is None:
                continue
            if row.written_code_token == row.code_token:
                pins[code.grant_id] = code.code
                continue
            try:
                pins[code.grant_id] = self.context.reveal(row.written_code_token)
            except UnreadableSecret:
                continue
        return pins

    def _confirm_untouched(self, desired: tuple[DesiredCode, ...], actions: list[Action]) -> None:
        """Desired codes no action concerns are on the lock exactly right already."""
        acted = {_grant_of(action) for action in actions if not isinstance(action, Delete)}
        for code in desired:
            if code.grant_id not in acted:
                self.confirmed[code.grant_id] = self._kept(code.grant_id, actions)

    def _kept(self, grant_id: str, actions: list[Action]) -> ProviderCode:
        doomed = {a.code_id for a in actions if isinstance(a, Delete) and a.grant_id == grant_id}
        return next(c for c in self.on_lock[grant_id] if c.code_id not in doomed)

    # -- applying actions --------------------------------------------------------------------

    async def _apply(self, provider: LockProvider, action: Action) -> None:
        grant_id = _grant_of(action)
        if isinstance(action, Delete) and self._leaves_by_itself(provider, action):
            return
        if isinstance(action, Create) and self._pin_busy(provider, action):
            return
        held_until = self._held_until(provider, grant_id, action)
        if held_until is not None:
            self.deferred[grant_id] = held_until
            return
        try:
            await self._perform(provider, action)
        except CodeNotFound:
            await self._already_gone(provider, action)
        except ProviderError as err:
            self._failed(provider, action, err)

    def _leaves_by_itself(self, provider: LockProvider, action: Delete) -> bool:
        """An ended code on a back-end that removes ended codes itself: one write per stay.

        Its row reads "removing" until a later read no longer lists it.
        """
        if not (provider.abilities.expires_codes and self.lock.capabilities.native_scheduling):
            return False
        code = next(
            (c for c in self.on_lock.get(action.grant_id, []) if c.code_id == action.code_id),
            None,
        )
        return code is not None and code.ends_at is not None and code.ends_at <= self.now

    def _pin_busy(self, provider: LockProvider, action: Create) -> bool:
        """Never put a PIN beside one the lock still holds (a copy whose removal failed).

        The planner keeps the desired codes apart; this keeps them apart from what is really
        on the lock, so a failed deletion cannot lead to two equal PINs at one keypad.
        """
        prefix_free = not self.lock.capabilities.enter_key
        wanted = action.desired
        for grant_id, codes in self.on_lock.items():
            if grant_id != wanted.grant_id and any(
                code.code is not None and codes_clash(code.code, wanted.code, prefix_free)
                for code in codes
            ):
                self.deferred[wanted.grant_id] = self.deferred.get(
                    grant_id, self.now + _PIN_RECHECK
                )
                return True
        if any(
            code.code is not None and codes_clash(code.code, wanted.code, prefix_free)
            for code in self.theirs
        ):
            error = DuplicateCode("a code set by hand on the lock has the same digits")
            self._failed(provider, action, error)
            return True
        return False

    def _held_until(self, provider: LockProvider, grant_id: str, action: Action) -> datetime | None:
        """Why not to attempt ``action`` now: the lock stopped, a backoff, or a rate limit."""
        if self.halted_until is not None:
            return self.halted_until
        backoff = self._backoff_of(grant_id)
        if backoff is not None:
            return backoff
        if isinstance(action, Create):
            if self.creates_blocked_until is not None:
                return self.creates_blocked_until
            free_at = self.context.limiter.take_create(
                provider, self.lock.account_key, self.lock.external_id
            )
            if free_at is not None:
                self.creates_blocked_until = free_at
                return free_at
        return None

    async def _perform(self, provider: LockProvider, action: Action) -> None:
        device = self.lock.external_id
        if isinstance(action, Delete):
            await provider.delete_code(device, action.code_id)
            self._deleted(action)
        elif isinstance(action, Update) and not provider.abilities.update_in_place:
            await provider.delete_code(device, action.code_id)
            self._deleted(
                Delete(
                    code_id=action.code_id, grant_id=action.desired.grant_id, why="the window moved"
                )
            )
            await self._perform(provider, Create(action.desired, replacing=True))
        elif isinstance(action, Update):
            updated = await provider.update_code(device, action.code_id, action.desired.window)
            self._replace_on_lock(action.desired.grant_id, updated)
            self.confirmed[action.desired.grant_id] = updated
            self.outcome.updated += 1
            reason = (
                "put back: its window was changed at the lock"
                if self._was_right(action.desired)
                else "the window moved"
            )
            self._event("LockCodeUpdated", action.desired.grant_id, reason, updated.code_id)
        else:
            desired = action.desired
            slot = None
            if provider.abilities.addressing is Addressing.BY_SLOT:
                slot = await self._slot_for(desired.grant_id, self._going_into_empty(desired))
                if slot is None:
                    self.deferred[desired.grant_id] = self.now + _SLOT_RECHECK
                    return
            new = NewCode(
                tag_for(desired.grant_id),
                desired.code,
                desired.window,
                slot,
                shared_key=f"{tag_for(desired.grant_id)} v{desired.version}",
            )
            created = await provider.create_code(device, new)
            self._created(action, created)

    def _going_into_empty(self, desired: DesiredCode) -> str | None:
        """The code token of ``desired``, when its slot holds nothing of the grant's now.

        Then whatever the slot holds after the write is that PIN (written, or nothing), and
        the reservation may record it. Not so when the grant's old code is still there (its
        removal failed): a failed write would leave the old PIN under the new record.
        """
        row = self.rows.get(desired.grant_id)
        if row is None or self.on_lock.get(desired.grant_id):
            return None
        return row.code_token

    async def _slot_for(self, grant_id: str, written: str | None) -> int | None:
        """The grant's slot: the one it took before, else a free one, held before writing.

        The reservation records ``written``, the code token going into the slot (None:
        unknown), in the same commit.

        The database holds each slot for one grant at a time, whichever process asks: a slot
        another pass reserved meanwhile is refused and the next free one tried. None when
        other passes took every slot tried, or gave this grant a slot meanwhile: the code waits
        for the next pass, which reads that slot, and no code is written into a slot its grant
        does not hold.
        """
        owned = self.lock.slots
        assert owned is not None  # checked before any action of a slot-addressed lock
        recorded = self.slots.get(grant_id)
        taken = {slot for holder, slot in self.slots.items() if holder != grant_id}
        # A slot recorded long ago (a cancelled stay confirmed again) may have gone to another
        # grant meanwhile: it is reused only while nobody else holds it.
        if recorded is None or recorded not in owned or recorded in taken:
            recorded = None
        for _ in range(_RESERVATION_TRIES):
            slot = recorded or choose_slot(owned, taken | self.slot_listing.occupied)
            if slot is None:
                raise NoSpaceLeft(f"every slot doorcode owns on this lock ({owned}) is taken")
            if await self.context.reserve_slot(self.lock.id, grant_id, slot, written):
                self.slots[grant_id] = slot
                return slot
            logger.info("lock %s: slot %s was taken by another pass", self.lock.id, slot)
            recorded = None
            taken.add(slot)
        return None

    def _slot_holders(self) -> dict[int, str]:
        """Slot -> grant; where two grants recorded one slot, the one whose code is there."""
        holders: dict[int, str] = {}
        for grant_id, slot in self.slots.items():
            row = self.rows.get(grant_id)
            there = row is not None and row.state.provider_code_id == str(slot)
            if slot not in holders or there:
                holders[slot] = grant_id
        return holders

    async def _clear_strays(self, provider: LockProvider) -> None:
        """Clear codes in doorcode's slots that no grant holds; the owner's slots stay untouched."""
        left: list[ProviderCode] = []
        for code in self.slot_listing.strays:
            details = {"provider_code_id": code.code_id}
            try:
                await provider.delete_code(self.lock.external_id, code.code_id)
            except ProviderError as err:
                left.append(code)  # its slot stays taken until a later pass clears it
                self.strays_due_at = self.now + _STRAY_RECHECK
                self._lock_event("StrayCodeNotCleared", str(err), details)
                continue
            self.outcome.deleted += 1
            self._lock_event("StrayCodeCleared", _STRAY_REASON, details)
        self.slot_listing = SlotListing(self.slot_listing.codes, tuple(left))

    def _created(self, action: Create, created: ProviderCode) -> None:
        grant_id = action.desired.grant_id
        self.on_lock.setdefault(grant_id, []).append(created)
        self.confirmed[grant_id] = created
        self.created.add(grant_id)
        self.outcome.created += 1
        row = self.rows.get(grant_id)
        if row is not None:
            self.written[grant_id] = row.code_token
        if action.replacing:
            reason = "put back: its code was changed at the lock"
        elif row is not None and row.state.actual == PRESENT:
            reason = "put back: it was deleted at the lock"
        else:
            reason = ""
        self._event("LockCodeCreated", grant_id, reason, created.code_id)

    def _deleted(self, action: Delete) -> None:
        remaining = [
            c for c in self.on_lock.get(action.grant_id, []) if c.code_id != action.code_id
        ]
        self.on_lock[action.grant_id] = remaining
        self.outcome.deleted += 1
        self._event("LockCodeDeleted", action.grant_id, action.why, action.code_id)

    async def _already_gone(self, provider: LockProvider, action: Action) -> None:
        """Someone removed the code between our list and our call."""
        if isinstance(action, Delete):
            self._deleted(action)
        elif isinstance(action, Update):
            self.on_lock[action.desired.grant_id] = [
                c
                for c in self.on_lock.get(action.desired.grant_id, [])
                if c.code_id != action.code_id
            ]
            await self._apply(provider, Create(action.desired))

    def _failed(self, provider: LockProvider, action: Action, error: ProviderError) -> None:
        grant_id = _grant_of(action)
        row = self.rows.get(grant_id)
        attempts = self._attempts_after_failure(row)
        retry_at = next_attempt_at(error, attempts, self.now, self.context.rng)
        self.failures[grant_id] = error
        self.deferred[grant_id] = retry_at
        self.outcome.failed += 1
        details = {"operation": _operation(action), "error": type(error).__name__}
        self._event("LockCodeFailed", grant_id, str(error), None, details)
        self._pause_if_rate_limited(error)
        if policy_for(error).scope is Scope.LOCK:
            self.halted_until = retry_at
            self.lock_error = error
        if isinstance(error, ProviderAuthFailed):
            self.refused = str(error)

    # -- vendor offline codes (sync/vendor_offline.py) ----------------------------------------

    async def _offline_only(self) -> LockResult:
        """A lock the network cannot program: its vendor's offline codes, where it has them."""
        provider = self._vendor_of_offline_codes()
        if provider is None:
            return self._not_programmable()
        for row in self.rows.values():
            if self.halted_until is not None:
                break
            if self._wants_vendor_code(row) and self._backoff_of(row.grant_id) is None:
                reason = f"{self.lock.name} cannot be programmed: its own offline code for the stay"
                await self._issue_vendor_code(provider, row, reason, record_failure=True)
        return self._not_programmable()

    def _vendor_of_offline_codes(self) -> LockProvider | None:
        """The lock's back-end, when it computes offline codes this lock checks."""
        account_id = self.lock.account_id
        if not self.lock.capabilities.offline_codes or account_id is None:
            return None
        if account_id in self.context.refused:
            return None
        try:
            provider = self.context.providers.for_account(self.context.accounts.get(account_id))
        except ProviderError:
            return None
        return provider if provider.abilities.vendor_offline_codes else None

    async def _fall_back_to_vendor_codes(self, provider: LockProvider, plan: LockPlan) -> None:
        """The back-end said the lock is offline: guests due soon get its offline code."""
        if not (self._lock_offline() and provider.abilities.vendor_offline_codes):
            return
        if not self.lock.capabilities.offline_codes:
            return
        for code in plan.desired:
            row = self.rows.get(code.grant_id)
            set_now = self.confirmed.get(code.grant_id)
            if row is None or (set_now is not None and set_now.is_set):
                continue
            due = row.starts_at - self.context.fallback_before <= self.now
            if due and self._wants_vendor_code(row):
                reason = f"{self.lock.name} is offline: its own offline code stands in"
                await self._issue_vendor_code(provider, row, reason, record_failure=False)

    def _lock_offline(self) -> bool:
        """Whether the back-end said during this pass that the lock is offline."""
        return isinstance(self.lock_error, LockOffline) or any(
            isinstance(error, LockOffline) for error in self.failures.values()
        )

    async def _pull_backups(self, provider: LockProvider, plan: LockPlan) -> None:
        """A guest whose code will not reach the lock in time gets the pool's backup.

        Pulled before this pass replaces a failed code: the backup belongs to that code.
        """
        if not provider.abilities.backup_pool or self._account_paused():
            return
        for desired in plan.desired:
            if self.halted_until is not None:
                return  # a 429 paused the account: the other pulls wait with it
            row = self.rows.get(desired.grant_id)
            codes = self.on_lock.get(desired.grant_id, [])
            if row is None or len(codes) != 1 or row.grant_id in self.issued:
                continue
            if self._code_is_late(row, codes[0]) and self._wants_vendor_code(row):
                await self._pull_backup(provider, row, codes[0].code_id, desired)

    def _code_is_late(self, row: LockCodeRecord, code: ProviderCode) -> bool:
        """Whether the code will not be on the lock by the stay's start.

        A code that failed, or any unconfirmed one on a lock that is offline, when the guest
        is due soon; a code still only accepted within ``BACKUP_AHEAD`` of the start. Seam
        keeps time-bound codes ``unset`` until shortly before they start, so an accepted code
        a day ahead is no sign of trouble, and a pool holds few backups.
        """
        if code.is_set:
            return False
        if code.state is CodeState.FAILED or self._lock_offline():
            return row.starts_at - self.context.fallback_before <= self.now
        return row.starts_at - BACKUP_AHEAD <= self.now

    async def _pull_backup(
        self,
        provider: LockProvider,
        row: LockCodeRecord,
        code_id: str,
        desired: DesiredCode | None,
    ) -> None:
        """Pull the pool's backup for the code ``code_id``; ``desired`` lets a code be replaced."""
        try:
            backup = await provider.pull_backup_code(self.lock.external_id, code_id)
        except NotSupported:
            return  # this device keeps no pool: nothing to pull, nothing wrong
        except ProviderError as err:
            deleted = isinstance(err, CodeNotFound) and desired is not None
            if deleted and desired and self._backup_was_deleted(desired.grant_id, code_id):
                await self._replace_for_fresh_backup(provider, row, code_id, desired)
                return
            details = {"operation": "pull_backup_code", "error": type(err).__name__}
            self._event("LockCodeFailed", row.grant_id, str(err), code_id, details)
            if isinstance(err, RateLimited):
                self._halt_for_rate_limit(err)
            return
        if backup.code_ref in {retired.code_ref for retired in self.lock.retired_backups}:
            return  # the pool handed back a code being withdrawn: no stand-in after all
        reason = f"{self.lock.name} had not confirmed the code: the back-end's backup stands in"
        self.issued[row.grant_id] = IssuedVendorCode(
            self.lock.organisation_id,
            row.grant_id,
            self.lock.id,
            self.lock.name,
            row.version,
            provider.kind,
            backup,
            reason,
            BACKUP_PULLED,
        )

    def _backup_was_deleted(self, grant_id: str, code_id: str) -> bool:
        """Whether the grant's backup here was deleted, and no action of this pass touches
        its code ``code_id``: then the code is why the pull fails, and replacing it helps."""
        kept = self.confirmed.get(grant_id)
        untouched = grant_id not in self.created and kept is not None and kept.code_id == code_id
        return untouched and grant_id in self.lock.backups_deleted_for

    async def _replace_for_fresh_backup(
        self, provider: LockProvider, row: LockCodeRecord, code_id: str, desired: DesiredCode
    ) -> None:
        """The code's backup is gone (deleted when the stay moved): a new code gets a new one.

        Seam remembers the one backup it gave a code and hands out that one only, so a code
        whose backup was deleted could never get another: every pull would fail. The code is
        replaced (same digits and window, a new id) and the new code's backup pulled at once;
        if the deletion fails, a later pass tries again.
        """
        await self._apply(provider, Delete(code_id, desired.grant_id, _BACKUP_GONE))
        if any(code.code_id == code_id for code in self.on_lock.get(desired.grant_id, [])):
            return  # not deleted: the failure is recorded, a later pass tries again
        self.confirmed.pop(desired.grant_id, None)
        await self._apply(provider, Create(desired, replacing=True))
        new = self.confirmed.get(desired.grant_id)
        if desired.grant_id in self.created and new is not None:
            await self._pull_backup(provider, row, new.code_id, None)

    def _wants_vendor_code(self, row: LockCodeRecord) -> bool:
        return not row.spare and not row.has_offline_code and _live(row, self.now)

    async def _issue_vendor_code(
        self, provider: LockProvider, row: LockCodeRecord, reason: str, *, record_failure: bool
    ) -> None:
        """Ask the vendor for the grant's offline code; a failure is the row's when offline-only.

        A stay already under way gets a code from the current hour: one starting at the
        check-in days ago would be dead (used within 24 h of its start or never).
        """
        window = vendor_issue_window(TimeWindow(row.starts_at, row.ends_at), self.now)
        try:
            issued = await provider.issue_offline_code(
                self.lock.external_id, offline_tag_for(row.grant_id), window
            )
        except ProviderError as err:
            self._event(
                "LockCodeFailed",
                row.grant_id,
                str(err),
                None,
                {"operation": "issue_offline_code", "error": type(err).__name__},
            )
            if record_failure:
                self._offline_code_failed(row, err)
            return
        self.issued[row.grant_id] = IssuedVendorCode(
            self.lock.organisation_id,
            row.grant_id,
            self.lock.id,
            self.lock.name,
            row.version,
            provider.kind,
            issued,
            reason,
        )

    def _offline_code_failed(self, row: LockCodeRecord, error: ProviderError) -> None:
        attempts = self._attempts_after_failure(row)
        self.failures[row.grant_id] = error
        self.deferred[row.grant_id] = next_attempt_at(error, attempts, self.now, self.context.rng)
        self.outcome.failed += 1
        self._pause_if_rate_limited(error)
        if policy_for(error).scope is Scope.LOCK:
            self.halted_until = self.deferred[row.grant_id]
        if isinstance(error, ProviderAuthFailed):
            self.refused = str(error)
            self.halted_until = self.deferred[row.grant_id]

    def _pause_if_rate_limited(self, error: ProviderError) -> None:
        """A 429 pauses the whole account for its Retry-After: no call to it before then."""
        if isinstance(error, RateLimited):
            self.context.limiter.pause(self.lock.account_key, pause_after(error, self.now))

    def _halt_for_rate_limit(self, error: RateLimited) -> None:
        """A 429 outside a code's action (a backup's pull or deletion): the account pauses,
        the lock's remaining calls wait, and the lock records the failure, as after a
        throttled create."""
        self._pause_if_rate_limited(error)
        attempts = self.lock.state.sync_attempts + 1
        self.halted_until = next_attempt_at(error, attempts, self.now, self.context.rng)
        self.lock_error = error

    def _account_paused(self) -> bool:
        """Whether the back-end asked this pass's account for a break that has not ended."""
        return self.context.limiter.paused_until(self.lock.account_key) is not None

    # -- backoff ---------------------------------------------------------------------------

    def _backoff_of_lock(self) -> datetime | None:
        """A lock-wide backoff holds unless forced or a grant changed since."""
        retry_at = self.lock.state.sync_retry_at
        if self.context.force or self.lock.has_pending_request:
            return None
        return retry_at if retry_at is not None and retry_at > self.now else None

    def _backoff_of(self, grant_id: str) -> datetime | None:
        """A failing code waits for its next attempt, unless forced or its grant changed."""
        row = self.rows.get(grant_id)
        if row is None or self.context.force:
            return None
        state = row.state
        if state.attempted_version != row.version or state.next_attempt_at is None:
            return None
        return state.next_attempt_at if state.next_attempt_at > self.now else None

    def _attempts_after_failure(self, row: LockCodeRecord | None) -> int:
        if row is None or row.state.attempted_version != row.version:
            return 1
        return row.state.attempts + 1

    # -- results -----------------------------------------------------------------------------

    def _result(self, plan: LockPlan, unmanaged: tuple[str, ...]) -> LockResult:
        self.inventoried = True
        desired = {code.grant_id: code for code in plan.desired}
        self._note_read_back(plan.desired)
        waiting = {grant.grant_id: grant.reason.value for grant in plan.waiting}
        codes = {
            grant_id: self._code_state(row, desired.get(grant_id), waiting.get(grant_id))
            for grant_id, row in self.rows.items()
        }
        retries = [state.next_attempt_at for state in codes.values() if state.next_attempt_at]
        due = [
            plan.next_change_at,
            *retries,
            self.halted_until,
            self.strays_due_at,
            self.retired_backups.retry_at,
        ]
        self.outcome.next_sync_at = min((d for d in due if d is not None), default=None)
        self.outcome.error = str(self.lock_error) if self.lock_error else None
        state = self._lock_state(self.outcome.next_sync_at, unmanaged)
        return replace(self._finish(codes, state), refused=self.refused)

    def _note_read_back(self, desired: tuple[DesiredCode, ...]) -> None:
        """A code listed with the wanted digits shows what the lock holds: recorded, so the
        lock's PIN stays known should a later listing mask it."""
        for code in desired:
            row = self.rows.get(code.grant_id)
            kept = self.confirmed.get(code.grant_id)
            if row is not None and kept is not None and kept.code == code.code:
                self.written.setdefault(code.grant_id, row.code_token)

    def _code_state(
        self, row: LockCodeRecord, desired: DesiredCode | None, waiting: str | None
    ) -> LockCodeState:
        grant_id = row.grant_id
        present = self.on_lock.get(grant_id, [])
        confirmed = self.confirmed.get(grant_id) if desired is not None else None
        old = row.state
        if confirmed is not None and len(present) == 1:
            self._note_adoption(row, confirmed)
            if confirmed.is_set:
                return LockCodeState(PRESENT, None, PRESENT, confirmed.code_id, row.version)
            # Accepted by the back-end, not yet on the device: confirmed by a later read.
            kept = old.confirmed_version if old.provider_code_id == confirmed.code_id else None
            return LockCodeState(
                PRESENT, None, PRESENT, confirmed.code_id, kept, accepted_version=row.version
            )
        error = self.failures.get(grant_id)
        on_lock = PRESENT if present else ABSENT
        base = LockCodeState(
            desired=PRESENT if desired is not None else ABSENT,
            wait_reason=waiting,
            actual=on_lock,
            provider_code_id=present[0].code_id if present else None,
            confirmed_version=old.confirmed_version if present else None,
        )
        if error is not None:
            return _failing(
                base,
                self._attempts_after_failure(row),
                str(error),
                row.version,
                self.deferred[grant_id],
            )
        if grant_id in self.deferred:
            return _failing(
                base, old.attempts, old.last_error, old.attempted_version, self.deferred[grant_id]
            )
        return base

    def _note_adoption(self, row: LockCodeRecord, code: ProviderCode) -> None:
        """A right code we had no record of: created before a crash, or by a timed-out call."""
        if row.grant_id in self.created or row.state.provider_code_id == code.code_id:
            return
        self.outcome.adopted += 1
        self._event(
            "LockCodeAdopted", row.grant_id, "found on the lock, created earlier", code.code_id
        )

    def _lock_state(
        self, next_sync_at: datetime | None, unmanaged: tuple[str, ...]
    ) -> LockSyncState:
        old = self.lock.state
        if self.lock_error is None:
            if old.sync_error:
                self._lock_event("LockSyncRecovered", "the lock answers again")
            return LockSyncState(
                self.lock.sync_requests, self.now, next_sync_at, unmanaged_codes=unmanaged
            )
        return self._lock_failure_state(self.lock_error, next_sync_at, unmanaged)

    def _lock_failure_state(
        self, error: ProviderError, next_sync_at: datetime | None, unmanaged: tuple[str, ...]
    ) -> LockSyncState:
        old = self.lock.state
        attempts = old.sync_attempts + 1
        retry_at = self.halted_until or next_attempt_at(error, attempts, self.now, self.context.rng)
        if str(error) != old.sync_error:
            self._lock_event("LockSyncFailed", str(error), {"error": type(error).__name__})
        return LockSyncState(
            self.lock.sync_requests,
            self.now,
            min(d for d in (next_sync_at, retry_at) if d is not None),
            str(error),
            attempts,
            retry_at,
            unmanaged,
        )

    def _unreachable(self, error: ProviderError) -> LockResult:
        """Listing failed: nothing is known about the lock, so no row changes but the lock's."""
        self.lock_error = error
        self.outcome.error = str(error)
        if isinstance(error, ProviderAuthFailed) and self.lock.account_id is not None:
            return self._stopped(str(error), refused_now=True)
        if isinstance(error, ProviderNotConfigured):
            return self._not_configured(error)
        attempts = self.lock.state.sync_attempts + 1
        self.halted_until = next_attempt_at(error, attempts, self.now, self.context.rng)
        self._pause_if_rate_limited(error)
        state = self._lock_failure_state(error, self.halted_until, self.lock.state.unmanaged_codes)
        self.outcome.next_sync_at = state.next_sync_at
        gone = True if isinstance(error, UnknownDevice) else None
        return replace(self._finish({}, state), gone=gone)

    def _not_configured(self, error: ProviderNotConfigured) -> LockResult:
        """No account serves the lock: not a lock fault, so nothing is retried.

        The lock waits (``next_sync_at`` None) until something touches it: connecting an
        account and importing attaches it, and its next pass runs as usual.
        """
        old = self.lock.state
        if old.sync_error != str(error):
            self._lock_event("LockSyncFailed", str(error), {"error": type(error).__name__})
        state = LockSyncState(
            self.lock.sync_requests,
            self.now,
            None,
            str(error),
            old.sync_attempts + 1,
            None,
            old.unmanaged_codes,
        )
        return self._finish({}, state)

    def _stopped(self, why: str, *, refused_now: bool = False) -> LockResult:
        """The account's credentials were refused: no call until an operator reconnects it.

        The lock is not due again by itself (``next_sync_at`` None); reconnecting the account
        touches its locks, and the next pass runs as usual.
        """
        self.outcome.skipped = None if refused_now else "the provider account was refused"
        self.outcome.error = f"the provider account was refused: {why}"
        old = self.lock.state
        if old.sync_error != self.outcome.error:
            self._lock_event("LockSyncFailed", self.outcome.error, {"error": "ProviderAuthFailed"})
        state = LockSyncState(
            self.lock.sync_requests,
            self.now if refused_now else old.synced_at,
            None,
            self.outcome.error,
            old.sync_attempts + 1 if refused_now else old.sync_attempts,
            None,
            old.unmanaged_codes,
        )
        result = self._finish({}, state)
        return replace(result, refused=why) if refused_now else result

    def _skipped(self, why: str, until: datetime) -> LockResult:
        self.outcome.skipped = why
        self.outcome.next_sync_at = until
        old = self.lock.state
        state = LockSyncState(
            self.lock.sync_requests,
            old.synced_at,
            until,
            old.sync_error,
            old.sync_attempts,
            old.sync_retry_at,
            old.unmanaged_codes,
        )
        return self._finish({}, state)

    def _not_programmable(self) -> LockResult:
        """Offline-code locks are not programmed over a network; their rows say so."""
        self.outcome.skipped = "not programmable online"
        codes = {row.grant_id: self._offline_row(row) for row in self.rows.values()}
        retries = [state.next_attempt_at for state in codes.values() if state.next_attempt_at]
        state = LockSyncState(self.lock.sync_requests, self.now, min(retries, default=None))
        result = self._finish(codes, state)
        return replace(result, refused=self.refused)

    def _offline_row(self, row: LockCodeRecord) -> LockCodeState:
        """The keypad carries whatever offline code the grant holds for this version."""
        holds = row.has_offline_code or row.grant_id in self.issued
        base = LockCodeState(
            wait_reason=NOT_PROGRAMMABLE if _live(row, self.now) else None,
            confirmed_version=row.version if holds else None,
        )
        error = self.failures.get(row.grant_id)
        if error is not None:
            attempts = self._attempts_after_failure(row)
            return _failing(base, attempts, str(error), row.version, self.deferred[row.grant_id])
        old = row.state
        if old.next_attempt_at is not None and old.next_attempt_at > self.now and not holds:
            return _failing(
                base, old.attempts, old.last_error, old.attempted_version, old.next_attempt_at
            )
        return base

    def _finish(self, codes: dict[str, LockCodeState], state: LockSyncState) -> LockResult:
        state = replace(self._due_after_now(state), inventoried_at=self._inventoried_at())
        changed = {
            grant_id: new
            for grant_id, new in codes.items()
            if new != self.rows[grant_id].state or not self.rows[grant_id].visited
        }
        return LockResult(
            self.outcome,
            self.lock,
            state,
            changed,
            self.events,
            offline_codes=tuple(self.issued.values()),
            backups_removed=self.retired_backups.removed,
            written={
                grant_id: token
                for grant_id, token in self.written.items()
                if grant_id in self.rows and token != self.rows[grant_id].written_code_token
            },
        )

    def _inventoried_at(self) -> datetime | None:
        """The first completed listing's instant: this pass's, if it is the first to complete.

        Only a pass that ends normally records what it found (``_result``); one that failed to
        list, or crashed anywhere, leaves the lock's first inventory to a later pass.
        """
        done = self.lock.state.inventoried_at
        return done if done is not None or not self.inventoried else self.now

    def _due_after_now(self, state: LockSyncState) -> LockSyncState:
        """Never leave the lock due at or before this pass: it has handled that instant.

        A runner wakes a lock at its ``next_sync_at``; one that is not in the future would
        wake it at once, and the pass would compute the same instant again: a tight loop.
        The periodic sweep still visits the lock.
        """
        if state.next_sync_at is None or state.next_sync_at > self.now:
            return state
        logger.warning(
            "lock %s: a pass computed its next change at %s, not after now; left to the sweep",
            self.lock.id,
            state.next_sync_at.isoformat(),
        )
        self.outcome.next_sync_at = None
        return replace(state, next_sync_at=None)

    # -- events ------------------------------------------------------------------------------

    def _note_unmanaged(self, theirs: list[ProviderCode]) -> None:
        known = set(self.lock.state.unmanaged_codes)
        for code in theirs:
            if code.code_id not in known:
                details = {"provider_code_id": code.code_id, "name": code.name}
                self._lock_event(
                    "UnmanagedCodeFound", "a code set outside doorcode; left alone", details
                )

    def _was_right(self, desired: DesiredCode) -> bool:
        row = self.rows.get(desired.grant_id)
        return row is not None and row.state.confirmed_version == desired.version

    def _event(
        self,
        kind: str,
        grant_id: str,
        reason: str,
        code_id: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        details: dict[str, Any] = {"lock_id": self.lock.id, "lock": self.lock.name}
        if code_id is not None:
            details["provider_code_id"] = code_id
        row = self.rows.get(grant_id)
        if row is not None:
            details["version"] = row.version
        self.events.append(
            EventDraft(
                self.lock.organisation_id,
                kind,
                ("grant", grant_id),
                reason,
                details | (extra or {}),
            )
        )

    def _lock_event(self, kind: str, reason: str, details: dict[str, Any] | None = None) -> None:
        self.events.append(
            EventDraft(
                self.lock.organisation_id, kind, ("lock", self.lock.id), reason, details or {}
            )
        )

    def _replace_on_lock(self, grant_id: str, code: ProviderCode) -> None:
        others = [c for c in self.on_lock.get(grant_id, []) if c.code_id != code.code_id]
        self.on_lock[grant_id] = [code, *others]


_UNKNOWN_SLOTS = (
    "the lock does not say how many code slots it has: "
    "set the slots doorcode may use with `doorcode lock slots`"
)
_STRAY_REASON = "a code in doorcode's slots that no grant holds"
_BACKUP_GONE = "replaced: the backup-pool code it had was deleted, and the pool gives a code one"


def _failing(
    base: LockCodeState, attempts: int, error: str | None, version: int | None, retry_at: datetime
) -> LockCodeState:
    return LockCodeState(
        base.desired,
        base.wait_reason,
        base.actual,
        base.provider_code_id,
        base.confirmed_version,
        version,
        attempts,
        error,
        retry_at,
    )


def _live(row: LockCodeRecord, now: datetime) -> bool:
    return row.revoked_at is None and row.ends_at > now


def _grant_of(action: Action) -> str:
    return action.grant_id if isinstance(action, Delete) else action.desired.grant_id


def _operation(action: Action) -> str:
    return type(action).__name__.lower()
