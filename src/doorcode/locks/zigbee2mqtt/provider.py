"""zigbee2mqtt as a lock back-end: slots written over MQTT, confirmed by reading them back.

An account is an MQTT broker that a zigbee2mqtt bridge publishes to::

    doorcode provider connect zigbee2mqtt --label "Home zigbee" \\
        --option host=192.168.1.10 --option port=1883 --option base_topic=zigbee2mqtt \\
        --option "slots=Front door=30"            # only for a model the table lacks

Locks are the devices of the retained ``<base>/bridge/devices`` that expose ``pin_code``; the
device's IEEE address is its external id (a friendly name can be renamed). The provider is
thin: the account's long-lived ``Zigbee2MqttLink`` (see ``link.py``) holds the connection and
what the locks said, so a provider built for one pass answers ``list_codes`` from memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from doorcode.domain.clock import Clock
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.windows import TimeWindow
from doorcode.locks.access_events import AccessEventPage
from doorcode.locks.base import (
    Abilities,
    Addressing,
    Device,
    LockProvider,
    NewCode,
    ProviderAccount,
    ProviderCode,
)
from doorcode.locks.errors import CodeNotFound, NotSupported, ProviderNotConfigured
from doorcode.locks.health import LockHealth
from doorcode.locks.zigbee2mqtt.link import LinkSettings, RadioOperations, Zigbee2MqttLink
from doorcode.locks.zigbee2mqtt.models import parse_overrides

if TYPE_CHECKING:
    import httpx

    from doorcode.locks.links import AccountLinks

__all__ = ["PIN_LENGTHS", "Zigbee2MqttProvider", "link_settings"]

PIN_LENGTHS = frozenset(range(4, 9))
"""What zigbee keypad locks take (Yale: 4 to 8 digits)."""


def link_settings(account: ProviderAccount) -> LinkSettings:
    """The account's broker and options; a malformed option is a configuration to fix."""
    options = account.options
    try:
        port = int(options.get("port", "1883"))
        overrides = parse_overrides(options.get("slots", ""), options.get("write_only", ""))
        answer_timeout = float(options.get("answer_timeout", "10"))
        connect_timeout = float(options.get("connect_timeout", "5"))
        recheck_after = float(options.get("recheck_after", "600"))
    except ValueError as err:
        raise ProviderNotConfigured(f"zigbee2mqtt account {account.label!r}: {err}") from err
    return LinkSettings(
        host=options.get("host", "127.0.0.1"),
        port=port,
        base_topic=options.get("base_topic", "zigbee2mqtt").rstrip("/"),
        username=account.credentials.get("username") or None,
        password=account.credentials.get("password") or None,
        overrides=overrides,
        answer_timeout=answer_timeout,
        connect_timeout=connect_timeout,
        recheck_after=recheck_after,
    )


class Zigbee2MqttProvider(LockProvider):
    """One zigbee2mqtt bridge's locks, through the account's link."""

    kind: ClassVar[str] = "zigbee2mqtt"
    abilities: ClassVar[Abilities] = Abilities(
        native_scheduling=False,
        expires_codes=False,
        # PINs show only where zigbee2mqtt's expose_pin is on and the model answers reads.
        readable_pins=False,
        update_in_place=False,
        confirms_later=True,
        addressing=Addressing.BY_SLOT,
    )
    optional_credential_names: ClassVar[tuple[str, ...]] = ("username", "password")
    option_names: ClassVar[tuple[str, ...]] = (
        "host",
        "port",
        "base_topic",
        "slots",
        "write_only",
        "answer_timeout",
        "connect_timeout",
        "recheck_after",
    )

    def __init__(self, link: Zigbee2MqttLink, *, owns_link: bool = False) -> None:
        self.link = link
        self._owns_link = owns_link

    @classmethod
    def from_account(
        cls, account: ProviderAccount, *, http: httpx.AsyncClient, clock: Clock
    ) -> LockProvider:
        """A provider with a link of its own, ended by ``aclose`` (scripts, one-off checks)."""
        return cls(Zigbee2MqttLink.start(link_settings(account), clock), owns_link=True)

    @classmethod
    def build(
        cls,
        account: ProviderAccount,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        links: AccountLinks,
    ) -> LockProvider:
        """The provider over the account's process-wide link, started the first time."""
        settings = link_settings(account)
        link = links.get(
            f"{cls.kind}:{account.account_id}",
            lambda: Zigbee2MqttLink.start(settings, clock),
            Zigbee2MqttLink,
            fits=lambda running: running.settings == settings,
        )
        return cls(link)

    @property
    def operations(self) -> RadioOperations:
        """The account's publishes to lock ``/set`` and ``/get`` so far in this process."""
        return self.link.operations

    async def aclose(self) -> None:
        """End the link only if this provider started it for itself."""
        if self._owns_link:
            self.link.close()

    async def list_devices(self) -> list[Device]:
        """The locks of ``bridge/devices`` (those exposing ``pin_code``)."""
        found = await self.link.call(self.link.devices())
        return [
            Device(
                entry.ieee_address,
                entry.friendly_name,
                LockCapabilities(
                    code_lengths=PIN_LENGTHS,
                    max_codes=model.slots,
                    native_scheduling=False,
                    enter_key=False,
                ),
                health,
            )
            for entry, model, health in found
        ]

    async def list_codes(self, device_id: str) -> list[ProviderCode]:
        """Occupied slots from what the link has seen: no radio after the first inventory."""
        slots = await self.link.call(self.link.codes(device_id))
        return [ProviderCode(str(view.slot), "", view.pin, state=view.state) for view in slots]

    async def lists_every_code(self, device_id: str) -> bool:
        """False for a lock that is not read back: the link knows only what it wrote or heard."""
        return await self.link.call(self.link.reads_back(device_id))

    async def create_code(self, device_id: str, code: NewCode) -> ProviderCode:
        """Write the slot the reconciler chose, then read it back (or await the lock's event)."""
        slot = code.slot
        if slot is None:
            raise NotSupported("zigbee2mqtt keeps codes in numbered slots; none was chosen")
        state = await self.link.call(self.link.write(device_id, slot, code.code))
        return ProviderCode(str(slot), "", code.code, state=state)

    async def update_code(
        self, device_id: str, code_id: str, window: TimeWindow | None
    ) -> ProviderCode:
        """Zigbee slots carry no window: doorcode writes at the start and clears at the end."""
        raise NotSupported("zigbee2mqtt locks keep no schedule; the code is written again")

    async def delete_code(self, device_id: str, code_id: str) -> None:
        """Clear the slot and read it back; clearing an empty slot is not an error."""
        if not code_id.isdigit():
            raise CodeNotFound(f"{code_id!r} is not a slot number")
        await self.link.call(self.link.clear(device_id, int(code_id)))

    async def health(self, device_id: str) -> LockHealth:
        """Availability as zigbee2mqtt publishes it, with its 25 h caveat for battery locks."""
        return await self.link.call(self.link.health(device_id))

    async def access_events(self, device_id: str, cursor: str | None) -> AccessEventPage:
        """Keypad openings and refusals the link heard since ``cursor``."""
        return await self.link.call(self.link.events(device_id, cursor))
