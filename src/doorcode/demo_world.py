"""The demo world of DESIGN.md, built through the same services an operator uses.

An apartment building in Lisbon (two flats sharing a street door), a cabin in the Rockies whose
keypad has no network, and a villa near Málaga with a front and a back door; a dozen stays over
the next three weeks (a same-day turnover, a pending booking, an early check-in), one stay
across the next daylight-saving change, and a cleaner who comes every Tuesday
(one staff schedule over both flats, not a grant per visit).

Every lock is ``virtual``: while ``make demo`` serves, the reconciler programs them, and
``doorcode keypad enter "Flat 1A door" <code>`` opens for the guest staying there now. The
cabin's keypad has no network: its key group's key is loaded into the virtual keypad once
(that is the key's one export), every cabin guest gets an offline code that carries its own
window, and the keypad checks it by itself. The villa keeps a backup code on both doors for a
guest whose code fails.

What the doors say: Inês, staying at Flat 1A since yesterday, opened the street door and her
flat door on arrival (real keypad entries on the virtual locks, read by the access pass), so
she shows as arrived; Sofia, arriving at Flat 2B today, has not yet. The villa's front door
has reported its battery running down over the last weeks and is at 18 % with the Schmidt
family due in a few days: the first access pass of ``make demo`` raises that alert.

Guest messages: a host contact, street addresses, each property's own sending rules, guests
in several languages (with a Portuguese template for the Portuguese), and one booking with
no contact details, which shows up as a warning. The console channel prints the messages.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from doorcode.domain.code_policy import CodeConstraints
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.messages import ChannelName, MessagePurpose
from doorcode.domain.reservations import ReservationStatus, Stay
from doorcode.locks.health import LockHealth
from doorcode.notify.facts import guidebook_url
from doorcode.notify.templates import TemplateParts
from doorcode.runtime import Runtime
from doorcode.services.api_keys import create_api_key
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import InvalidRequest
from doorcode.services.grants import reveal_code
from doorcode.services.guide_pages import DoorNotes, GuidePages, set_guide_pages
from doorcode.services.host_contact import HostContact, set_host_contact
from doorcode.services.lock_health import record_health
from doorcode.services.locks import LockDetails, add_lock
from doorcode.services.message_rules import set_rules
from doorcode.services.message_templates import TemplateKey, save_template
from doorcode.services.offline_codes import create_key_group, provision_virtual_locks
from doorcode.services.organisations import create_organisation, resolve_organisation
from doorcode.services.properties import PropertyDetails, add_property, find_property, link_lock
from doorcode.services.reservations import Guest, ReservationDetails, record_reservation
from doorcode.services.schedules import Frequency, ScheduleDetails, create_schedule
from doorcode.services.users import create_user
from doorcode.sources.webhook_sources import SourceSettings, add_source
from doorcode.store.repositories import ReservationFilter
from doorcode.store.unit_of_work import UnitOfWork
from doorcode.sync.access_poller import poll_access
from doorcode.sync.provisioning import install_virtual_locks
from doorcode.sync.reconciler import Reconciler

__all__ = [
    "DEMO_SLUG",
    "DemoUser",
    "DemoWorld",
    "ensure_demo_user",
    "ensure_demo_world",
    "run_apart",
]

DEMO_SLUG = "demo"
KEY_FILE = "demo-api-key.txt"
WEBHOOK_KEY_FILE = "demo-webhook-secret.txt"
WEBHOOK_SOURCE = "demo-pms"
LISBON = ZoneInfo("Europe/Lisbon")

KEYPAD = LockCapabilities(code_lengths=frozenset(range(4, 9)), max_codes=50)
NUKI_LIKE = LockCapabilities(
    code_lengths=frozenset({6}),
    constraints=CodeConstraints(no_zeros=True, forbidden_prefixes=frozenset({"12"})),
    max_codes=100,
)
OFFLINE_KEYPAD = LockCapabilities(
    code_lengths=frozenset(range(4, 13)),
    native_scheduling=False,
    online=False,
    offline_codes=True,
    enter_key=True,
)

KEEPS_BACKUP_CODES = {"villa-sol"}
# Who opened their doors yesterday, and which doors; the lock whose battery runs down.
ARRIVED_AT = ("Inês Carvalho", "Rua Augusta street door", "Flat 1A door")
LOW_BATTERY = "Villa Sol front door"
BATTERY_RUNNING_DOWN = [(6, 96), (5, 88), (4, 74), (3, 61), (2, 45), (1, 31), (0, 18)]
# Properties whose cleaner gets a code from each check-out to the next check-in.
TURNOVERS = {"villa-sol": "Ana (villa cleaner)"}

# (lock name, capabilities)
LOCKS = [
    ("Rua Augusta street door", KEYPAD),
    ("Flat 1A door", NUKI_LIKE),
    ("Flat 2B door", NUKI_LIKE),
    ("Pine Cabin keypad", OFFLINE_KEYPAD),
    ("Villa Sol front door", KEYPAD),
    ("Villa Sol back door", KEYPAD),
]
# (property, zone, external id, its locks, address)
PROPERTIES = [
    (
        "Flat 1A",
        "Europe/Lisbon",
        "augusta-1a",
        ["Rua Augusta street door", "Flat 1A door"],
        "Rua Augusta 100, 1.º A, 1100-053 Lisboa",
    ),
    (
        "Flat 2B",
        "Europe/Lisbon",
        "augusta-2b",
        ["Rua Augusta street door", "Flat 2B door"],
        "Rua Augusta 100, 2.º B, 1100-053 Lisboa",
    ),
    ("Pine Cabin", "America/Denver", "pine-cabin", ["Pine Cabin keypad"], "4 Aspen Trail, Estes"),
    (
        "Villa Sol",
        "Europe/Madrid",
        "villa-sol",
        ["Villa Sol front door", "Villa Sol back door"],
        "Camino de la Loma 7, Marbella",
    ),
]
# Each property's own rules for guest messages (the rest keep the defaults: 2 days, 10:00).
RULES = {
    "pine-cabin": {"days_before": 3, "send_at": time(9, 0)},  # a long drive up the mountain
    "villa-sol": {"days_before": 1, "send_at": time(18, 0), "alert_hours": 12},
}
# Guests' languages (English otherwise), and a guest the booking channel gave no contact for.
LOCALES = {
    "Inês Carvalho": "pt-PT",
    "Sofia Rossi": "it",
    "Kenji Watanabe": "ja",
    "The Schmidt family": "de",
    "Chloé Dubois": "fr",
    "Lucas Martin": "pt-BR",
}
UNREACHABLE = "Noah Kim"
PORTUGUESE_TEXT = """Olá {{ guest.first_name|default("hóspede", true) }},

A sua estadia em {{ property.name }} está a chegar. Eis como entrar.

Entrada: {{ check_in }}
Saída:   {{ check_out }}
(horas locais)
{% if property.address %}
Morada: {{ property.address }}
{% endif %}

O seu código: {{ code }}
{% for access in all_access_codes %}
  {{ access.lock }}: {{ access.code }}
{% endfor %}

O código funciona da entrada até à saída. Marque-o no teclado e, se o teclado tiver,
carregue na tecla de confirmação.

Tudo sobre a estadia: {{ guidebook_url }}
{% if host.phone or host.email %}

Dúvidas? Contacte {{ host.name }}
{%- if host.phone %} pelo {{ host.phone }}{% endif %}
{%- if host.email %} ou em {{ host.email }}{% endif %}.
{% endif %}

Até breve,
{{ host.name }}
"""
PORTUGUESE_HTML = """<p>Olá {{ guest.first_name|default("hóspede", true) }},</p>
<p>A sua estadia em <strong>{{ property.name }}</strong> está a chegar.</p>
<p>Entrada: {{ check_in }}<br>Saída: {{ check_out }} (horas locais)</p>
<p>O seu código: <strong>{{ code }}</strong></p>
<p><a href="{{ guidebook_url }}">Tudo sobre a estadia</a></p>
{% if host.phone or host.email %}
<p>Dúvidas? Contacte {{ host.name }}
{%- if host.phone %} pelo {{ host.phone }}{% endif %}
{%- if host.email %} ou em <a href="mailto:{{ host.email }}">{{ host.email }}</a>{% endif %}.</p>
{% endif %}
<p>Até breve,<br>{{ host.name }}</p>
"""
BUILDING_GUIDE = {
    "wifi": "Network **RuaAugusta-Guest**, password `pasteis-de-nata`.",
    "directions": (
        "Metro **Baixa-Chiado** (green and blue lines), exit Rua Augusta; number 100 is the "
        "blue-tiled building [on the map](https://www.openstreetmap.org/search?query=Rua%20Augusta%20100)."
    ),
    "parking": "No parking at the building: the *Parque Baixa* garage is two streets away.",
    "house_rules": "- No parties, no smoking\n- Quiet after 22:00: the walls are old",
    "check_out": "1. Start the dishwasher\n2. Leave the keys on the table\n3. Pull the door shut",
}
# (arrival, departure) at each door of the building
DOOR_NOTES = {
    "Rua Augusta street door": ("The big wooden door; type the code, then the **key** button.", ""),
    "Flat 1A door": ("First floor, on the left.", "It locks by itself when you pull it shut."),
    "Flat 2B door": ("Second floor, on the right.", "It locks by itself when you pull it shut."),
}
# (property external id, guest, first night from today, nights, status, early check-in)
STAYS = [
    ("augusta-1a", "Inês Carvalho", -1, 3, ReservationStatus.CONFIRMED, None),
    ("augusta-1a", "Tom Becker", 2, 3, ReservationStatus.CONFIRMED, None),  # same-day turnover
    ("augusta-1a", "Priya Nair", 8, 4, ReservationStatus.CONFIRMED, None),
    ("augusta-1a", "Lucas Martin", 15, 4, ReservationStatus.CONFIRMED, None),
    ("augusta-2b", "Sofia Rossi", 0, 3, ReservationStatus.CONFIRMED, None),
    ("augusta-2b", "Kenji Watanabe", 4, 3, ReservationStatus.PENDING, None),
    ("augusta-2b", "Amara Okafor", 10, 4, ReservationStatus.CONFIRMED, None),
    ("pine-cabin", "Jake Miller", 1, 3, ReservationStatus.CONFIRMED, None),
    ("pine-cabin", "Emma Larsen", 6, 3, ReservationStatus.CONFIRMED, None),
    ("pine-cabin", "Noah Kim", 13, 4, ReservationStatus.CONFIRMED, None),
    ("villa-sol", "The Schmidt family", 3, 7, ReservationStatus.CONFIRMED, time(12, 0)),
    ("villa-sol", "Chloé Dubois", 12, 4, ReservationStatus.CONFIRMED, None),
]


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """How to reach the demo: its organisation and an owner API key."""

    organisation_slug: str
    api_key: str
    webhook_path: str | None = None

    def __repr__(self) -> str:
        return f"DemoWorld(organisation_slug={self.organisation_slug!r}, api_key=***)"


def ensure_demo_world(runtime: Runtime) -> DemoWorld:
    """The demo world, built on first use and kept afterwards."""
    key_file = runtime.settings.data_dir / KEY_FILE
    with runtime.uow() as uow:
        existing = uow.organisations.by_slug(DEMO_SLUG)
        source = uow.sources.by_name(existing.id, WEBHOOK_SOURCE) if existing else None
    webhook_path = f"/webhooks/reservations/{source.id}" if source else None
    if existing is not None and key_file.exists():
        return DemoWorld(DEMO_SLUG, key_file.read_text().strip(), webhook_path)
    owner = _build(runtime) if existing is None else Caller(existing.id, "demo", Role.OWNER)
    issued = create_api_key(runtime.uow(), owner, "demo", Role.OWNER)
    _write_secret(key_file, issued.secret)
    return DemoWorld(DEMO_SLUG, issued.secret, webhook_path or _webhook_source(runtime, owner))


def _build(runtime: Runtime) -> Caller:
    organisation = create_organisation(runtime.uow(), DEMO_SLUG, "Demo Rentals")
    owner = Caller(organisation.id, "demo", Role.OWNER)
    _set_up_messages(runtime, owner)
    locks = {
        name: add_lock(runtime.uow(), owner, LockDetails(name, capabilities=caps))
        for name, caps in LOCKS
    }
    for name, zone, external_id, lock_names, address in PROPERTIES:
        details = PropertyDetails(
            name=name,
            time_zone=zone,
            external_id=external_id,
            address=address,
            backup_codes=external_id in KEEPS_BACKUP_CODES,
            turnover_holder=TURNOVERS.get(external_id, ""),
        )
        prop = add_property(runtime.uow(), owner, details)
        for lock_name in lock_names:
            link_lock(runtime.uow(), owner, prop.id, locks[lock_name].id)
        if external_id in RULES:
            set_rules(runtime.uow(), owner, prop.id, RULES[external_id])
    _provision_offline_keypad(runtime, owner)
    _write_guidebooks(runtime, owner)
    today = runtime.clock().astimezone(LISBON).date()
    for number, (external_id, guest, first, nights, status, early) in enumerate(STAYS, start=1):
        check_in = today + timedelta(days=first)
        stay = Stay(check_in, check_in + timedelta(days=nights), early)
        _book(runtime, owner, f"DEMO-{number:03d}", external_id, guest, stay, status)
    _book_across_next_dst_change(runtime, owner, today)
    _schedule_cleaner(runtime, owner, today)
    _show_access(runtime, owner, today, {name: lock.id for name, lock in locks.items()})
    return owner


def _show_access(runtime: Runtime, owner: Caller, today: date, lock_ids: dict[str, str]) -> None:
    """Inês arrived yesterday (her openings, typed at the virtual keypads); the villa's front
    door's battery ran down over six weeks."""
    cloud = runtime.providers.virtual_cloud
    if cloud is None:
        return
    install_virtual_locks(runtime)
    doors = [lock_ids[ARRIVED_AT[1]], lock_ids[ARRIVED_AT[2]]]
    run_apart(lambda: Reconciler.from_runtime(runtime).reconcile(doors, force=True))
    with runtime.uow() as uow:
        found = uow.reservations.search(
            owner.organisation_id, ReservationFilter(guest_name=ARRIVED_AT[0], limit=1)
        )
        grant = uow.grants.guest_grant_of(found[0].id) if found else None
        devices = [uow.locks.get(owner.organisation_id, lock_id) for lock_id in doors]
    if grant is None:
        return
    code = reveal_code(runtime.uow(), owner, grant.id)
    arrival = datetime.combine(today - timedelta(days=1), time(15, 38), LISBON)
    for minutes, device in enumerate(devices):
        if device is not None:
            cloud.enter(device.external_id, code, arrival + timedelta(minutes=minutes * 3))
    front = lock_ids[LOW_BATTERY]
    for weeks_ago, percent in BATTERY_RUNNING_DOWN:
        record_past_health(runtime, owner, front, percent, weeks_ago)
    with runtime.uow() as uow:
        device_id = uow.locks.get(owner.organisation_id, front)
    if device_id is not None:
        cloud.set_battery(device_id.external_id, BATTERY_RUNNING_DOWN[-1][1])
    run_apart(lambda: poll_access(runtime))


def run_apart(work: Callable[[], Coroutine[Any, Any, object]]) -> None:
    """Run a coroutine to its end in a thread of its own: whoever builds the demo may already
    own this thread's event loop (a server starting, a browser driver in the tests)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as err:  # handed to the caller's thread below
            failures.append(err)

    worker = threading.Thread(target=run, name="demo-world")
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


def record_past_health(
    runtime: Runtime, owner: Caller, lock_id: str, percent: int, weeks_ago: int
) -> None:
    """A battery reading the lock reported ``weeks_ago`` (the demo's history); today's comes
    from the device itself, through the access pass."""
    if weeks_ago <= 0:
        return
    at = runtime.clock() - timedelta(weeks=weeks_ago)
    with UnitOfWork(runtime.session_factory, runtime.cipher, lambda: at, runtime.rng) as uow:
        lock = uow.locks.get(owner.organisation_id, lock_id)
        if lock is not None:
            threshold = runtime.settings.battery_alert_percent
            record_health(uow, lock, LockHealth(True, percent, at), threshold)
            uow.commit()


def _write_guidebooks(runtime: Runtime, owner: Caller) -> None:
    """What the building's guests read besides their code, and what each door asks of them."""
    for ref in ("augusta-1a", "augusta-2b"):
        prop = find_property(runtime.uow(), owner, ref)
        doors = tuple(
            DoorNotes(lock.id, lock.name, *DOOR_NOTES.get(lock.name, ("", "")))
            for lock in prop.locks
        )
        set_guide_pages(runtime.uow(), owner, ref, GuidePages(BUILDING_GUIDE, doors))


def _provision_offline_keypad(runtime: Runtime, owner: Caller) -> None:
    """A technician's visit: the cabin's key group, its key loaded into the virtual keypad."""
    create_key_group(runtime.uow(), owner, "Pine Cabin", ("Pine Cabin keypad",))
    provision_virtual_locks(runtime.uow(), owner, runtime.providers, "Pine Cabin")


def _webhook_source(runtime: Runtime, owner: Caller) -> str:
    """A generic webhook source, its secret kept next to the API key for trying it out."""
    issued = add_source(runtime.uow(), owner, SourceSettings(WEBHOOK_SOURCE))
    _write_secret(runtime.settings.data_dir / WEBHOOK_KEY_FILE, issued.secret)
    return f"/webhooks/reservations/{issued.source.id}"


def _book(
    runtime: Runtime,
    owner: Caller,
    booking: str,
    prop: str,
    guest: str,
    stay: Stay,
    status: ReservationStatus = ReservationStatus.CONFIRMED,
) -> None:
    email = guest.lower().replace(" ", ".").replace("é", "e").replace("ê", "e") + "@example.org"
    contact = Guest(guest, email, locale=LOCALES.get(guest, "en"))
    if guest == UNREACHABLE:
        contact = Guest(guest)
    details = ReservationDetails("demo", booking, prop, status, stay, contact)
    record_reservation(runtime.uow(), owner, details)


def _set_up_messages(runtime: Runtime, owner: Caller) -> None:
    """Who guests may contact, and Portuguese wording for Portuguese-speaking guests."""
    contact = HostContact("Marta at Demo Rentals", "hello@demo-rentals.example", "+351 210 000 000")
    set_host_contact(runtime.uow(), owner, contact)
    key = TemplateKey(MessagePurpose.CHECK_IN_INSTRUCTIONS, ChannelName.EMAIL, "pt")
    parts = TemplateParts("O seu código para {{ property.name }}", PORTUGUESE_HTML, PORTUGUESE_TEXT)
    save_template(runtime.uow(), owner, key, parts)


def _book_across_next_dst_change(runtime: Runtime, owner: Caller, today: date) -> None:
    zone = ZoneInfo("Europe/Madrid")
    change = _next_offset_change(zone, today)
    stay = Stay(change - timedelta(days=1), change + timedelta(days=2))
    _book(runtime, owner, "DEMO-DST", "villa-sol", "Olivia Brown", stay)


def _schedule_cleaner(runtime: Runtime, owner: Caller, today: date) -> None:
    """Every Tuesday, 10:00 to 14:00 on site, at both flats: one schedule, twelve weeks."""
    details = ScheduleDetails(
        holder="Marta (cleaner)",
        property_refs=("augusta-1a", "augusta-2b"),
        frequency=Frequency.WEEKLY,
        starts=time(10),
        ends=time(14),
        first_day=today,
        last_day=today + timedelta(weeks=12),
        weekdays=frozenset({1}),
    )
    create_schedule(runtime.uow(), owner, details)


def _next_offset_change(zone: ZoneInfo, after: date) -> date:
    """The first day after ``after`` whose UTC offset at noon differs from the day before."""
    day = after
    noon = time(12)
    for _ in range(400):
        following = day + timedelta(days=1)
        if (
            datetime.combine(following, noon, zone).utcoffset()
            != datetime.combine(day, noon, zone).utcoffset()
        ):
            return following
        day = following
    return after + timedelta(days=30)


def _write_secret(path: Path, secret: str) -> None:
    """Only the owner may read it, from the first byte written (a file left by an older run
    may have been wider, hence the fchmod)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")


DEMO_USER = "demo"
DEMO_USER_FILE = "demo-user.txt"


@dataclass(frozen=True, slots=True)
class DemoUser:
    """Who signs in to the demo's dashboard, and the current guest's guidebook link."""

    username: str
    password: str
    guidebook_url: str | None

    def __repr__(self) -> str:
        return f"DemoUser(username={self.username!r}, password=***)"


def ensure_demo_user(runtime: Runtime) -> DemoUser:
    """An owner who signs in to the demo (password generated once, kept in the data folder)."""
    user_file = runtime.settings.data_dir / DEMO_USER_FILE
    organisation = resolve_organisation(runtime.uow(), DEMO_SLUG)
    owner = Caller(organisation.id, "demo", Role.OWNER)
    with runtime.uow() as uow:
        exists = uow.users.by_username(DEMO_USER) is not None
    if exists and not user_file.exists():
        raise InvalidRequest(
            f"the demo user exists but {user_file} is gone: delete the data folder to start again"
        )
    if exists:
        password = user_file.read_text().splitlines()[1]
    else:
        password = secrets.token_urlsafe(12)
        create_user(runtime.uow(), owner, DEMO_USER, password, Role.OWNER)
        _write_secret(user_file, f"{DEMO_USER}\n{password}")
    return DemoUser(DEMO_USER, password, _current_guidebook(runtime, owner))


def _current_guidebook(runtime: Runtime, owner: Caller) -> str | None:
    """The guidebook link of a guest staying now (the first such stay), for trying it out."""
    with runtime.uow() as uow:
        which = ReservationFilter(
            status="confirmed", active_at_or_after=uow.now, starts_before=uow.now, limit=1
        )
        staying = uow.reservations.search(owner.organisation_id, which)
        token = uow.reservations.guide_token_of(staying[0]) if staying else None
    return guidebook_url(runtime.settings.public_url, token) if token else None
