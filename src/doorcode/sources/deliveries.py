"""Webhook deliveries: prove, keep, dedupe, order, record, and say what became of each.

Every request that names an existing source is stored, whatever happens to it, with its
headers and body (secrets redacted, see ``redaction``), so an operator can see what arrived
and replay it. In order:

1. **Prove** the request came from the source (``webhook_signature``). A failure is stored
   as ``rejected``, small: at most 2 KiB of a body nobody vouched for and 20 headers, and at
   most 30 such records per source a minute. Anyone who knows a source id can send these,
   so beyond that they are answered the same but not stored (no ``delivery_id``): a flood
   of forgeries cannot grow the database.
2. **Read** the body: the source's adapter turns a PMS document into the generic shape,
   which is then checked strictly (``webhook_payload``). Events about something other than
   a reservation are stored as ``ignored``.
3. **Apply**, in one transaction that starts by queuing behind the other deliveries of the
   same booking (so the checks below never race a twin delivery, while other bookings go
   ahead): refuse a replay (same delivery id and timestamp), then ``apply_reservation``,
   which ignores an update older than the one already applied (``stale``) and remembers
   the update's version on the reservation. The delivery record commits with the
   reservation, or not at all.

A refused delivery is stored in a transaction of its own after the work is rolled back, so
bad input leaves nothing behind but its record. Outcomes: ``accepted`` (something changed),
``unchanged`` (a duplicate), ``stale``, ``ignored``, ``rejected``.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from pydantic import ValidationError

from doorcode.domain.errors import AmbiguousReference, CodeSpaceExhausted, InvalidWindow
from doorcode.domain.text import first_nul
from doorcode.services.caller import Caller, Role
from doorcode.services.errors import InvalidRequest, NotFound
from doorcode.services.reservations import (
    Change,
    Duplicate,
    StaleUpdate,
    apply_reservation,
    find_duplicate,
)
from doorcode.sources.adapter import GenericAdapter, PmsAdapter
from doorcode.sources.errors import (
    BodyTooLarge,
    CannotRecord,
    NotAReservation,
    PayloadRejected,
    ReplayedDelivery,
    SourceError,
)
from doorcode.sources.guesty import GuestyAdapter
from doorcode.sources.hostaway import HostawayAdapter
from doorcode.sources.json_bodies import UnreadableJson, read_json
from doorcode.sources.redaction import redact_body, redact_headers
from doorcode.sources.webhook_payload import ReservationPayloadV1
from doorcode.sources.webhook_signature import (
    Proof,
    verify_basic_auth,
    verify_doorcode,
    verify_svix,
)
from doorcode.sources.webhook_sources import SourceKind
from doorcode.store.ids import new_id
from doorcode.store.models import WebhookDelivery
from doorcode.store.source_repositories import DeliveryFilter
from doorcode.store.unit_of_work import UnitOfWork

__all__ = [
    "ADAPTERS",
    "DeliveryRefused",
    "DeliveryResult",
    "InboundRequest",
    "Outcome",
    "get_delivery",
    "list_deliveries",
    "read_payload",
    "receive_delivery",
    "replay_delivery",
]

logger = logging.getLogger(__name__)

BODY_LIMIT = 1024 * 1024
UNPROVEN_BODY_LIMIT = 2 * 1024
UNPROVEN_HEADERS_LIMIT = 20
UNPROVEN_PER_WINDOW = 30
UNPROVEN_WINDOW = timedelta(minutes=1)
ADAPTERS: Mapping[SourceKind, PmsAdapter] = {
    SourceKind.GENERIC: GenericAdapter(),
    SourceKind.HOSTAWAY: HostawayAdapter(),
    SourceKind.GUESTY: GuestyAdapter(),
}


class Outcome(enum.StrEnum):
    """What became of a delivery."""

    ACCEPTED = "accepted"
    UNCHANGED = "unchanged"
    STALE = "stale"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A request as it reached the webhook URL; header names lower-cased."""

    body: bytes
    headers: Mapping[str, str]
    too_large: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The stored delivery, the grant its reservation has, if any, and what changed."""

    delivery: WebhookDelivery
    grant_id: str | None = None
    change: Change | None = None


class DeliveryRefused(Exception):
    """A refused delivery; ``error`` says why, ``delivery_id`` is its record (None if unkept)."""

    def __init__(self, error: SourceError, delivery_id: str | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delivery_id = delivery_id


@dataclass(frozen=True, slots=True)
class _Source:
    """What processing needs of a source, read once and kept out of the session."""

    id: str
    organisation_id: str
    name: str
    kind: SourceKind
    secret: str = field(repr=False)

    def caller(self, replayed_by: str | None = None) -> Caller:
        actor = f"source:{self.name}"
        if replayed_by:
            actor += f" (replayed by {replayed_by})"
        return Caller(self.organisation_id, actor, Role.MANAGER)


@dataclass(frozen=True, slots=True)
class _Received:
    """The parts of a request every delivery record keeps."""

    body: bytes
    body_size: int
    headers: dict[str, str]
    proof: Proof | None = None
    replay_of: str | None = None

    def record(self, source: _Source, at: datetime, outcome: Outcome) -> WebhookDelivery:
        proof = self.proof or Proof()
        return WebhookDelivery(
            id=new_id("dlv"),
            organisation_id=source.organisation_id,
            source_id=source.id,
            received_at=at,
            delivery_key=proof.delivery_id,
            signed_at=proof.signed_at,
            authenticated=self.proof is not None,
            body=self.body,
            body_size=self.body_size,
            headers=self.headers,
            outcome=outcome.value,
            reason="",
            message="",
            replay_of=self.replay_of,
        )


def receive_delivery(uow: UnitOfWork, source_id: str, request: InboundRequest) -> DeliveryResult:
    """Process one request to a source's webhook URL; raise ``DeliveryRefused`` if refused.

    One session does it all, from reading the source to the delivery's record: a transaction
    of its own for the source's signing secret cost every delivery a connection checkout, a
    BEGIN and a ROLLBACK (on PostgreSQL, three round trips) before any work began.
    """
    body, headers = redact_body(request.body), redact_headers(request.headers)
    with uow:
        source = _source_of(uow, source_id)
        try:
            if request.too_large:
                raise BodyTooLarge(BODY_LIMIT)
            proof = _prove(source, request, uow.now)
        except SourceError as err:
            kept = dict(list(headers.items())[:UNPROVEN_HEADERS_LIMIT])
            unproven = _Received(body[:UNPROVEN_BODY_LIMIT], len(request.body), kept)
            _refuse(uow, source, unproven, err)
        proven = _Received(body, len(request.body), headers, proof)
        return _process(uow, source, proven, request.body)


def replay_delivery(uow: UnitOfWork, caller: Caller, delivery_id: str) -> DeliveryResult:
    """Process a stored delivery again (after fixing a property, say), as a new delivery.

    Only deliveries that proved their origin can be replayed: anything else would let a
    forged body in through the operator's hands. Ordering still applies, so replaying an old
    update reports ``stale`` and changes nothing.
    """
    caller.require_writer()
    with uow:
        original = uow.deliveries.get(caller.organisation_id, delivery_id)
        if original is None:
            raise NotFound("delivery", delivery_id)
        if not original.authenticated:
            raise InvalidRequest("this delivery never proved where it came from: not replayable")
        stored = uow.sources.get(caller.organisation_id, original.source_id)
        if stored is None:
            raise NotFound("source", original.source_id)
        source = _Source(
            stored.id, stored.organisation_id, stored.name, SourceKind(stored.kind), ""
        )
        received = _Received(original.body, original.body_size, {}, Proof(), original.id)
        return _process(uow, source, received, original.body, replayed_by=caller.actor)


def list_deliveries(
    uow: UnitOfWork, caller: Caller, which: DeliveryFilter
) -> list[WebhookDelivery]:
    """The organisation's deliveries matching ``which``, newest first."""
    with uow:
        return uow.deliveries.search(caller.organisation_id, which)


def get_delivery(uow: UnitOfWork, caller: Caller, delivery_id: str) -> WebhookDelivery:
    """One stored delivery."""
    with uow:
        delivery = uow.deliveries.get(caller.organisation_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery", delivery_id)
        return delivery


def _source_of(uow: UnitOfWork, source_id: str) -> _Source:
    stored = uow.sources.signing_of(source_id)
    if stored is None:
        raise NotFound("source", source_id)
    secret = uow.cipher.decrypt(stored.secret_token)
    return _Source(stored.id, stored.organisation_id, stored.name, SourceKind(stored.kind), secret)


def _prove(source: _Source, request: InboundRequest, now: datetime) -> Proof:
    if source.kind is SourceKind.HOSTAWAY:
        return verify_basic_auth(source.id, source.secret, request.headers)
    if source.kind is SourceKind.GUESTY:
        return verify_svix(source.secret, request.headers, request.body, now)
    return verify_doorcode(source.secret, request.headers, request.body, now)


def _process(
    uow: UnitOfWork,
    source: _Source,
    received: _Received,
    body: bytes,
    replayed_by: str | None = None,
) -> DeliveryResult:
    """Read and apply a proven delivery in the open unit of work; a failure of ours is kept
    too, then raised."""
    try:
        return _read_and_apply(uow, source, received, body, replayed_by)
    except DeliveryRefused:
        raise
    except Exception:
        _keep_failure(uow, source, received)
        raise


def _read_and_apply(
    uow: UnitOfWork,
    source: _Source,
    received: _Received,
    body: bytes,
    replayed_by: str | None,
) -> DeliveryResult:
    try:
        payload = read_payload(source.kind, body)
    except NotAReservation:
        return _store(uow, source, received, Outcome.IGNORED, "not a reservation event")
    except PayloadRejected as err:
        _refuse(uow, source, received, err)
    try:
        return _apply(uow, source, received, payload, replayed_by)
    except SourceError as err:
        uow.rollback()  # the refusal's record is all that stays
        _refuse(uow, source, received, err)


def _keep_failure(uow: UnitOfWork, source: _Source, received: _Received) -> None:
    """Record a delivery that failed on doorcode's side, as the docs promise for every one.

    The failed work is rolled back first; the session then begins a transaction of its own
    for the record (on a fresh connection if the failure was a lost one). It claims no replay
    key, so the sender's retry of the same delivery is processed rather than refused as a
    replay; the operator can replay it too once the fault is fixed.
    """
    try:
        uow.rollback()
        uow.sources.queue_behind(source.id)
        delivery = received.record(source, uow.now, Outcome.REJECTED)
        delivery.reason = "internal_error"
        delivery.message = "doorcode failed to process this delivery; it can be sent again"
        _commit(uow, delivery)
    except Exception:  # the record is a courtesy: the original failure is what must surface
        logger.exception("could not keep the record of a failed delivery from %s", source.id)


def read_payload(kind: SourceKind, body: bytes) -> ReservationPayloadV1:
    """The body as a generic payload, or ``PayloadRejected`` naming the fields at fault."""
    try:
        document = read_json(body)
    except UnreadableJson as err:
        raise PayloadRejected("invalid_json", str(err)) from err
    if not isinstance(document, dict):
        raise PayloadRejected("invalid_payload", "the body must be a JSON object")
    if (path := first_nul(document)) is not None:
        message = "text may not contain the NUL character"
        raise PayloadRejected(
            "invalid_payload", f"{path}: {message}", [{"field": path, "message": message}]
        )
    adapter = ADAPTERS[kind]
    generic = adapter.to_generic(document)
    try:
        return ReservationPayloadV1.model_validate_json(json.dumps(generic))
    except ValidationError as err:
        raise _invalid(err, adapter.field_names) from err


def _invalid(err: ValidationError, names: Mapping[str, str]) -> PayloadRejected:
    fields = []
    for problem in err.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        context = problem.get("ctx") or {}
        # Our own checks' words, without pydantic's "Value error, " in front of them.
        words = context.get("error") if problem["type"] == "value_error" else None
        fields.append({"field": names.get(field, field), "message": str(words or problem["msg"])})
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
    return PayloadRejected("invalid_payload", summary[:500], fields)


def _apply(
    uow: UnitOfWork,
    source: _Source,
    received: _Received,
    payload: ReservationPayloadV1,
    replayed_by: str | None,
) -> DeliveryResult:
    """Record the reservation and its delivery together, one booking's deliveries at a time."""
    version = payload.ordering()
    uow.deliveries.queue_behind_booking(source.id, payload.external_id)
    delivery = _start(uow, source, received, Outcome.ACCEPTED)
    if received.proof is not None and delivery.replay_key != received.proof.replay_key:
        raise ReplayedDelivery
    delivery.external_id = payload.external_id
    delivery.source_version = version
    try:
        recorded = _record(uow, source, payload, replayed_by, version)
    except StaleUpdate:
        delivery.outcome = Outcome.STALE.value
        delivery.message = "an update newer than this one was applied already"
        _commit(uow, delivery)
        return DeliveryResult(delivery)
    delivery.reservation_id = recorded.reservation_id
    if recorded.change is Change.UNCHANGED:
        delivery.outcome = Outcome.UNCHANGED.value
    _commit(uow, delivery)
    return DeliveryResult(delivery, recorded.grant_id, recorded.change)


def _open(
    uow: UnitOfWork, source: _Source, received: _Received, outcome: Outcome
) -> WebhookDelivery:
    """Queue behind the source's other deliveries, then start this one's record."""
    uow.sources.queue_behind(source.id)
    return _start(uow, source, received, outcome)


def _start(
    uow: UnitOfWork, source: _Source, received: _Received, outcome: Outcome
) -> WebhookDelivery:
    """This delivery's record, its replay key set if the key is new.

    The replay key is only set once it is known to be new, so a replay is reported as one
    rather than as a broken unique constraint. The record is written by ``_commit``, once
    complete: one INSERT, rather than an INSERT and an UPDATE for every field learnt later.
    """
    delivery = received.record(source, uow.now, outcome)
    replay_key = received.proof.replay_key if received.proof else None
    if replay_key and not uow.deliveries.was_replayed(source.id, replay_key):
        delivery.replay_key = replay_key
    return delivery


def _commit(uow: UnitOfWork, delivery: WebhookDelivery) -> None:
    """Write the delivery's record with the rest of the transaction, commit, and log it."""
    uow.deliveries.write(delivery)
    uow.commit()
    _log(delivery)


@dataclass(frozen=True, slots=True)
class _Recorded:
    reservation_id: str
    grant_id: str | None
    change: Change


def _record(
    uow: UnitOfWork,
    source: _Source,
    payload: ReservationPayloadV1,
    replayed_by: str | None,
    version: int | None,
) -> _Recorded:
    """Apply the delivery's booking; a duplicate is recognised first, in one read, and
    costs nothing more than its delivery record."""
    caller = source.caller(replayed_by)
    details = payload.details(source.name)
    try:
        seen = find_duplicate(uow, caller, details, version)
        if isinstance(seen, Duplicate):
            return _Recorded(seen.reservation_id, seen.grant_id, Change.UNCHANGED)
        outcome = apply_reservation(uow, caller, details, version=version, seen=seen)
    except NotFound as err:
        message = f"no property {payload.property!r}; set a property's external id to it"
        raise _property_refused(source, "unknown_property", message, "unknown property") from err
    except AmbiguousReference as err:
        message = f"{err}; name the property by its id or external id"
        problem = "several properties have this name"
        raise _property_refused(source, "ambiguous_property", message, problem) from err
    except InvalidWindow as err:
        raise PayloadRejected("invalid_window", str(err)) from err
    except CodeSpaceExhausted as err:
        raise CannotRecord("code_space_exhausted", str(err)) from err
    grant_id = outcome.grant.id if outcome.grant is not None else None
    return _Recorded(outcome.reservation.id, grant_id, outcome.change)


def _property_refused(source: _Source, reason: str, message: str, problem: str) -> PayloadRejected:
    """A refusal pointing at the body's property field, by the name the source gives it."""
    field = ADAPTERS[source.kind].field_names.get("property", "property")
    return PayloadRejected(reason, message, [{"field": field, "message": problem}])


def _store(
    uow: UnitOfWork, source: _Source, received: _Received, outcome: Outcome, message: str
) -> DeliveryResult:
    delivery = _open(uow, source, received, outcome)
    delivery.message = message
    _commit(uow, delivery)
    return DeliveryResult(delivery)


def _refuse(uow: UnitOfWork, source: _Source, received: _Received, error: SourceError) -> NoReturn:
    """Store the delivery as rejected, then raise ``DeliveryRefused``; the open transaction
    must hold nothing else (a caller rolls its work back first).

    An unproven request is not stored once the source had ``UNPROVEN_PER_WINDOW`` of them
    within ``UNPROVEN_WINDOW``: the answer is the same, without a delivery id.
    """
    delivery = _open(uow, source, received, Outcome.REJECTED)
    if received.proof is None and _unproven_flood(uow, source):
        raise DeliveryRefused(error, None)  # leaving the unit of work rolls the hold back
    if received.proof is not None and delivery.replay_key != received.proof.replay_key:
        error = ReplayedDelivery()
    delivery.reason = error.reason
    delivery.message = error.message[:500]
    _commit(uow, delivery)
    raise DeliveryRefused(error, delivery.id)


def _unproven_flood(uow: UnitOfWork, source: _Source) -> bool:
    since = uow.now - UNPROVEN_WINDOW
    return uow.deliveries.unproven_since(source.id, since, UNPROVEN_PER_WINDOW) >= (
        UNPROVEN_PER_WINDOW
    )


def _log(delivery: WebhookDelivery) -> None:
    logger.info(
        "webhook delivery %s from source %s: %s %s",
        delivery.id,
        delivery.source_id,
        delivery.outcome,
        delivery.reason,
    )
