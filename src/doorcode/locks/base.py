"""The one interface every lock back-end implements: ``LockProvider``, one object per account.

How to write a back-end (read this once; it is the whole contract)
------------------------------------------------------------------

1. **One object per provider account.** An organisation connects an account (a Seam
   workspace, a TTLock or Nuki account, ...) with ``doorcode provider connect``; its
   credentials are stored encrypted and reach the adapter only as ``ProviderAccount``. The
   registry (``locks/registry.py``) builds the adapter through its factory and closes it::

       provider = SeamProvider.from_account(account, http=client, clock=clock)
       try:
           devices = await provider.list_devices()
       finally:
           await provider.aclose()

   ``http`` is an ``httpx.AsyncClient`` lent by the caller (tests give one on an
   ``httpx.MockTransport`` or pointed at a fake server); the adapter does not close it.
   ``aclose`` releases what the adapter opened itself (sessions, cached tokens). Register the
   class in ``locks/registry.py:BACKENDS`` under its ``kind``, and name the credentials an
   operator must give in ``credential_names`` (``doorcode provider connect`` asks for exactly
   those; ``ProviderAccount.credential(name)`` reads one) and the non-secret settings in
   ``option_names`` (``base_url`` for a regional host or a test peer).

2. **Declare abilities, never make the reconciler guess.** ``abilities`` (an ``Abilities``)
   says what the back-end can do at all: keep windows itself (``native_scheduling``) and remove
   ended codes itself (``expires_codes``: then doorcode never deletes an ended code), show
   PINs when listing (``readable_pins``), move a window in place (``update_in_place``; without
   it the reconciler deletes and creates), accept now and confirm later (``confirms_later``),
   push events by webhook (``pushes_events``), compute offline codes (``vendor_offline_codes``),
   hand out backup codes (``backup_pool``), and address codes ``BY_ID`` or ``BY_SLOT``. Per
   device facts (code lengths, constraints, capacity, native scheduling of *this* lock,
   offline-code support) are the ``LockCapabilities`` of each ``Device``.

3. **Devices.** ``list_devices()`` returns every lock the account can program as a
   ``Device(external_id, name, capabilities, health)``, with the capabilities the vendor
   reports (lengths, constraints, ``max_codes``, scheduling, offline codes). Import uses it;
   re-importing must change nothing that did not change, so report facts deterministically.

4. **Codes and "accepted is not set".** ``list_codes`` returns every code on the device,
   doorcode's (named ``tag_for(grant_id)``, see ``locks/tags.py``) and the owner's alike, each
   a ``ProviderCode`` with ``state``: ``SET`` (the device holds it), ``ACCEPTED`` (the cloud took
   it, the device has not confirmed: Seam ``setting``, Nuki's 204, TTLock async) or ``FAILED``
   (the cloud says it could not be set; ``error`` says why, without the PIN). ``create_code``
   and ``update_code`` return the code as the back-end knows it right after the call, usually
   ``ACCEPTED`` on a back-end that ``confirms_later``. A grant's version counts as confirmed on
   a lock only once a later ``list_codes`` (or event) shows it ``SET``.
   When create answers without an id (Nuki), the adapter finds the code by listing (by tag)
   before returning; if it cannot, it returns ``ACCEPTED`` with ``code_id=""`` and the next
   pass adopts the code by its tag.

5. **Errors.** Every coroutine raises only ``locks.errors.ProviderError`` subclasses,
   translated at the edge (``raise ... from err``); messages never carry a PIN, key or token.
   The mapping that matters to the reconciler: transport trouble/5xx -> ``ProviderUnavailable``;
   HTTP 429 or a vendor rate error -> ``RateLimited(retry_after=...)``; refused credentials ->
   ``ProviderAuthFailed`` (the account is stopped and an alert raised; nothing retries until an
   operator reconnects); device unreachable -> ``LockOffline``; full -> ``NoSpaceLeft``; rules
   -> ``CodeRefused``; same PIN present -> ``DuplicateCode``; no such code -> ``CodeNotFound``;
   no such device -> ``UnknownDevice``; an impossible request -> ``NotSupported``.

6. **Health and access events** (optional, with defaults that report nothing):
   ``health(device_id) -> LockHealth`` and ``access_events(device_id, cursor) ->
   AccessEventPage`` (oldest first; pass the returned cursor back). A back-end that receives
   webhooks also exposes a pure module function
   ``parse_<vendor>_webhook(headers, body, secret) -> list[AccessEvent]`` that raises
   ``WebhookRefused`` for a bad signature before reading anything.

7. **Vendor offline codes** (``abilities.vendor_offline_codes``): ``issue_offline_code`` asks the
   vendor's cloud for an algorithmic code the lock checks without a network (TTLock
   ``keyboardPwd/get``, Seam's offline access codes) and returns it with the window the vendor
   will honour (often whole hours) and its rules, for the operator and the guest's message.
   The reconciler calls it for a lock that cannot be programmed (no gateway, offline-only
   devices) and, near the start of a stay, for a lock the back-end says is offline; the code
   is stored with the grant's lock code and reaches the guest like doorcode's own offline
   codes. ``name`` is ``offline_tag_for(grant_id)``: when a code of that name already covers
   the window (issued before a crash, its answer lost), return it instead of asking for
   another, so a retry never leaves two codes for one stay.

8. **Slot-addressed locks** (``addressing=BY_SLOT``: Z-Wave JS, zigbee2mqtt) hold numbered
   user-code slots without names. ``Device.capabilities.max_codes`` is the slot count (slots
   1..max_codes). ``list_codes`` returns one ``ProviderCode`` per occupied slot with
   ``code_id=str(slot)``, ``name=""`` and the PIN (None when the lock masks it); it runs on every
   pass, so it answers from what the back-end already knows and costs no radio traffic.
   ``create_code`` writes ``NewCode.slot`` and confirms by reading that one slot from the device
   (``ACCEPTED`` where only a later event can confirm); ``delete_code(device, str(slot))`` clears
   it and is idempotent. Such back-ends neither schedule nor update in place: doorcode writes
   at the window's start and clears at its end. The reconciler, not the adapter, chooses the
   slot inside the range the lock's owner left to doorcode, records it before writing (so a
   crash between the write and the record loses nothing), and clears any other code found in
   that range; slots outside it are never written. A lock that cannot be read back (a
   write-only zigbee model, one that answers no reads) lists only what this process wrote or
   heard: ``lists_every_code`` says so, and the reconciler then takes the slots its records say
   hold a code as present, so that an ended code is still cleared after a restart.

9. **Backup pool** (``abilities.backup_pool``): a back-end that keeps spare codes on a device
   (Seam's backup access code pool) hands one out with ``pull_backup_code(device_id, code_id)``
   for a code the device has not confirmed. The reconciler pulls one for a guest due soon
   whose code is still only accepted (or failed) and stores it as that lock's stand-in code,
   the same way as a vendor offline code. Asking twice for one code returns the same backup.

10. **Prove it**: append the back-end and its test peer to ``tests/locks/conformance/backends.py``;
   the conformance suite runs the reconciler's guarantees (convergence, crash safety, no
   duplicate, revoke, every vendor exception mapped) against it.

The calls map onto Seam's published API one to one: ``devices/list``, ``access_codes/list``,
``access_codes/create`` (``code``, ``name``, optional ``starts_at``/``ends_at``),
``access_codes/update`` and ``access_codes/delete``.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from doorcode.domain.clock import Clock
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessEventPage
from doorcode.locks.errors import NotSupported, ProviderAuthFailed, ProviderNotConfigured
from doorcode.locks.health import UNKNOWN_HEALTH, LockHealth

if TYPE_CHECKING:
    import httpx

    from doorcode.locks.links import AccountLinks

__all__ = [
    "Abilities",
    "Addressing",
    "CodeState",
    "Device",
    "LockProvider",
    "NewCode",
    "ProviderAccount",
    "ProviderCode",
    "RateLimits",
    "VendorOfflineCode",
]


class Addressing(enum.StrEnum):
    """How a back-end names a code: by the id it gives it, or by a numbered slot."""

    BY_ID = "by_id"
    BY_SLOT = "by_slot"


@dataclass(frozen=True, slots=True)
class Abilities:
    """What a back-end can do at all; each device's ``LockCapabilities`` may narrow it."""

    native_scheduling: bool = False
    """Codes carry their window: the device refuses them outside it."""
    expires_codes: bool = False
    """A scheduled code leaves the device by itself at its window's end: no delete call then."""
    readable_pins: bool = False
    """``list_codes`` shows each code's digits."""
    update_in_place: bool = False
    """A window can be moved without deleting the code; otherwise delete, then create."""
    confirms_later: bool = False
    """A write may be ``ACCEPTED`` now and ``SET`` only at a later read or event."""
    pushes_events: bool = False
    """The back-end delivers access events by webhook (``parse_<vendor>_webhook``)."""
    vendor_offline_codes: bool = False
    """``issue_offline_code`` works on devices whose capabilities say ``offline_codes``."""
    backup_pool: bool = False
    """``pull_backup_code`` hands out a code the back-end keeps in reserve (on devices that
    keep a pool; others refuse it)."""
    addressing: Addressing = Addressing.BY_ID


class CodeState(enum.StrEnum):
    """Where a code stands at the back-end: taken by the cloud is not yet on the device."""

    ACCEPTED = "accepted"
    SET = "set"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """One organisation's stored account at one back-end, decrypted for its adapter only.

    ``credentials`` are secrets (API key, password hash, webhook secret); ``options`` are not
    (a base URL for a regional host or a test peer). The repr never shows credentials.
    """

    account_id: str
    organisation_id: str
    kind: str
    label: str
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    options: Mapping[str, str] = field(default_factory=dict)

    def credential(self, name: str) -> str:
        """One credential; a missing one is refused credentials, said without the value."""
        value = self.credentials.get(name)
        if not value:
            raise ProviderAuthFailed(f"the {self.kind} account {self.label!r} has no {name}")
        return value


@dataclass(frozen=True, slots=True)
class Device:
    """A lock as its back-end describes it (Seam: ``devices/list`` with ``properties``)."""

    external_id: str
    name: str
    capabilities: LockCapabilities
    health: LockHealth = UNKNOWN_HEALTH


@dataclass(frozen=True, slots=True)
class ProviderCode:
    """A code as the lock's back-end reports it.

    ``code_id`` is the back-end's reference (a code id, or a slot number as text); ``code`` is
    None when the back-end does not reveal PINs; ``starts_at``/``ends_at`` are None for a code
    without a schedule. ``state`` separates accepted by the cloud from set on the device;
    ``error`` is the back-end's reason for ``FAILED`` (never the PIN).
    """

    code_id: str
    name: str
    code: str | None = field(repr=False)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    state: CodeState = CodeState.SET
    error: str | None = None

    @property
    def window(self) -> TimeWindow | None:
        """The code's schedule as a window, or None when it has none."""
        if self.starts_at is None or self.ends_at is None:
            return None
        return TimeWindow(self.starts_at, self.ends_at)

    @property
    def is_set(self) -> bool:
        """Whether the device itself holds the code (not merely the cloud)."""
        return self.state is CodeState.SET


@dataclass(frozen=True, slots=True)
class NewCode:
    """A code to create: ``window`` only on locks that schedule codes themselves.

    ``slot`` is set by the reconciler for a ``BY_SLOT`` back-end, always, and only there: the
    numbered user-code slot to write, chosen once per grant and lock and kept for the grant's
    life (see ``domain/slots.py``).

    ``shared_key`` is the same for the one code of one grant version on every lock (Seam's
    ``common_code_key``): a back-end that links such codes may, others ignore it.
    """

    name: str
    code: str = field(repr=False)
    window: TimeWindow | None = None
    slot: int | None = None
    shared_key: str | None = None


@dataclass(frozen=True, slots=True)
class VendorOfflineCode:
    """An algorithmic code from the vendor's cloud, checked by the lock without a network.

    ``window`` is what the vendor will honour (TTLock and igloohome: whole hours, never shorter
    than asked); ``rules`` are sentences for the operator and the guest ("use it once within
    24 hours of the start, or it stops working").
    """

    code: str = field(repr=False)
    window: TimeWindow
    code_ref: str | None = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What a back-end documents about request rates; the reconciler's limiter keeps to it.

    Seam documents 10 code creations per minute per device. Pauses after a 429 are kept per
    provider account, so one organisation's rate trouble never stops another's locks.
    """

    creates_per_device: int | None = None
    per: timedelta = timedelta(minutes=1)


class LockProvider(abc.ABC):
    """A lock back-end for one account: devices, codes, and optionally health and events.

    Implement one per vendor in ``locks/<vendor>.py`` (or a package) with a ``from_account``
    factory, and register it in ``locks/registry.py``. ``kind`` is what
    ``provider_accounts.kind`` and ``locks.provider`` store. Methods are coroutines over an
    injected ``httpx.AsyncClient`` so tests can serve recorded answers.
    """

    kind: ClassVar[str] = ""
    abilities: ClassVar[Abilities] = Abilities()
    credential_names: ClassVar[tuple[str, ...]] = ()
    """The secrets an account of this kind needs (``api_key``...)."""
    optional_credential_names: ClassVar[tuple[str, ...]] = ()
    """Secrets an account may add (``webhook_secret`` for pushed events)."""
    option_names: ClassVar[tuple[str, ...]] = ("base_url",)
    """The non-secret settings an account of this kind may carry."""
    rate_limits: RateLimits = RateLimits()
    resolution: timedelta = timedelta(minutes=1)
    """How precisely the back-end keeps a code's start and end; smaller differences are equal."""

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> LockProvider:
        """The provider for ``account``, over the lent ``http`` client."""
        raise ProviderNotConfigured(f"{cls.kind or cls.__name__} is not built from an account")

    @classmethod
    def build(
        cls,
        account: ProviderAccount,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        links: AccountLinks,
    ) -> LockProvider:
        """What the registry calls: ``from_account``, unless the back-end keeps a link.

        A back-end that must stay connected between sessions (zigbee2mqtt, Z-Wave JS) takes
        its account's long-lived link from ``links`` here; see ``locks/links.py``.
        """
        return cls.from_account(account, http=http, clock=clock)

    async def aclose(self) -> None:
        """Release what the adapter opened itself; the lent ``http`` client stays open."""
        return None

    @abc.abstractmethod
    async def list_devices(self) -> list[Device]:
        """Every lock the account can program, with its capabilities and health."""

    @abc.abstractmethod
    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Every code on the lock, doorcode's and the owner's alike, each with its state."""

    @abc.abstractmethod
    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Put a code on the lock, scheduled when ``code.window`` is given."""

    @abc.abstractmethod
    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Move a code's schedule; its PIN and name stay (only with ``update_in_place``)."""

    @abc.abstractmethod
    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Remove a code from the lock."""

    async def lists_every_code(self, device_id: str) -> bool:
        """Whether ``list_codes`` showed every code on the device (asked right after it).

        False for a lock that cannot be read back: its listing holds only the codes this
        process wrote or heard of, and a code written before a restart is missing from it.
        """
        return True

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Access events newer than ``cursor``; back-ends that keep no log return an empty page."""
        return AccessEventPage((), cursor)

    async def health(self, device_id: str) -> LockHealth:
        """Online, battery and last contact as the back-end reports them."""
        return LockHealth(None, None, None)

    async def issue_offline_code(
        self, device_id: str, name: str, window: TimeWindow
    ) -> VendorOfflineCode:
        """The vendor's offline code covering ``window`` (``abilities.vendor_offline_codes``).

        An earlier code named ``name`` that covers the window is returned, not a new one.
        """
        raise NotSupported(f"{self.kind} does not issue offline codes")

    async def pull_backup_code(self, device_id: str, code_id: str) -> VendorOfflineCode:
        """A backup code standing in for the unconfirmed ``code_id`` (``abilities.backup_pool``).

        The same code is returned however often it is asked for one ``code_id``.
        """
        raise NotSupported(f"{self.kind} keeps no backup codes")
