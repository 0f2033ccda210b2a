"""How many SQL statements a webhook delivery costs: a count, so a regression is visible.

Each new booking is one transaction of a few writes; the bounds leave no room for a query per
lock, per code in use or per event to creep back in unnoticed.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from doorcode.services.reservations import Change
from doorcode.sources.deliveries import InboundRequest, receive_delivery
from doorcode.sources.webhook_sources import SourceKind, SourceSettings, add_source
from tests.builders import make_lock, make_owner, make_property
from tests.sources.conftest import booking, signed

# A new booking: the source (read, then queued behind), the replay check, one read of the
# booking as stored (none yet), the property with its locks (read; held on PostgreSQL), the
# reservation read after the hold, the reservation's INSERT, the locks marked for sync
# (PostgreSQL first takes their row locks), the codes in use, the grant, its lock codes, the
# probe for other stays at the property at the same time (an overlap raises alerts), the
# delivery record, and the audit events in one batch. The reservation, grant and lock codes
# are INSERTed last, in the transaction's one flush.
NEW_BOOKING = {"sqlite": 14, "postgresql": 16}
# A duplicate: the source, its hold, the replay check, one read of the booking as stored,
# and the delivery record. Nothing of the booking is loaded, held or written.
DUPLICATE = {"sqlite": 5, "postgresql": 5}


@pytest.fixture
def source(any_runtime):
    owner = make_owner(any_runtime, "acme")
    locks = [make_lock(any_runtime, owner, f"Door {n}") for n in range(2)]
    make_property(any_runtime, owner, "Flat 1", locks=locks, external_id="flat-1")
    return add_source(any_runtime.uow(), owner, SourceSettings("pms", SourceKind.GENERIC))


@contextmanager
def counted(runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def deliver(runtime, source, clock, delivery_id, **changes):
    content = json.dumps(booking(**changes)).encode()
    headers = signed(source, content, clock.now, delivery_id)
    inbound = InboundRequest(content, {name.lower(): value for name, value in headers.items()})
    return receive_delivery(runtime.uow(), source.source.id, inbound)


def test_a_new_booking_costs_a_bounded_number_of_statements(any_runtime, source, clock):
    # An earlier stay, not an overlapping one: an overlap costs its alert's statements.
    earlier = {"check_in": "2026-11-28", "check_out": "2026-12-01"}
    deliver(any_runtime, source, clock, "d-0", external_id="HX-0", **earlier)
    with counted(any_runtime) as statements:
        result = deliver(any_runtime, source, clock, "d-1")
    assert result.delivery.outcome == "accepted"
    assert len(statements) <= NEW_BOOKING[any_runtime.engine.dialect.name], statements


def test_a_new_booking_writes_its_rows_in_one_batch_after_its_reads(any_runtime, source, clock):
    # One flush: the reservation is not written alone for the locks' UPDATE or the code and
    # overlap reads, and then its grant in a second flush.
    with counted(any_runtime) as statements:
        result = deliver(any_runtime, source, clock, "d-1")
    assert result.delivery.outcome == "accepted"
    first = next(
        n
        for n, statement in enumerate(statements)
        if statement.startswith("INSERT INTO reservations")
    )
    assert all(statement.startswith("INSERT") for statement in statements[first:]), statements


def test_a_duplicate_costs_fewer_statements_than_a_new_booking(any_runtime, source, clock):
    deliver(any_runtime, source, clock, "d-1")
    with counted(any_runtime) as statements:
        result = deliver(any_runtime, source, clock, "d-2")
    assert result.delivery.outcome == "unchanged"
    assert len(statements) <= DUPLICATE[any_runtime.engine.dialect.name], statements


def test_lock_rows_are_locked_in_order_where_the_database_has_row_locks(any_runtime, source, clock):
    with counted(any_runtime) as statements:
        deliver(any_runtime, source, clock, "d-1")
    row_locks = [statement for statement in statements if "FOR UPDATE" in statement]
    if any_runtime.engine.dialect.name == "postgresql":
        (row_lock,) = row_locks
        assert "ORDER BY locks.id" in row_lock
    else:
        assert row_locks == []


def test_a_duplicate_writes_nothing_but_its_delivery_record(any_runtime, source, clock):
    deliver(any_runtime, source, clock, "d-1")
    with counted(any_runtime) as statements:
        result = deliver(any_runtime, source, clock, "d-2")
    assert result.change is Change.UNCHANGED
    assert result.grant_id is not None
    writes = [
        statement.split()[0:3]
        for statement in statements
        if statement.startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    held_source = (
        [["UPDATE", "sources", "SET"]] if any_runtime.engine.dialect.name == "sqlite" else []
    )
    assert writes == [*held_source, ["INSERT", "INTO", "webhook_deliveries"]]


def test_a_booking_named_by_its_property_name_is_a_duplicate_all_the_same(
    any_runtime, source, clock
):
    first = deliver(any_runtime, source, clock, "d-1", property="Flat 1")
    again = deliver(any_runtime, source, clock, "d-2", property="Flat 1")
    by_external_id = deliver(any_runtime, source, clock, "d-3")
    assert first.delivery.outcome == "accepted"
    assert again.delivery.outcome == by_external_id.delivery.outcome == "unchanged"
    assert again.grant_id == by_external_id.grant_id == first.grant_id


@contextmanager
def checkouts(runtime) -> Iterator[list[str]]:
    """Each time a session takes a connection from the pool (one per transaction here)."""
    taken: list[str] = []

    def checkout(*_args) -> None:
        taken.append("checkout")

    event.listen(runtime.engine, "checkout", checkout)
    try:
        yield taken
    finally:
        event.remove(runtime.engine, "checkout", checkout)


@pytest.mark.parametrize("repeat", [False, True], ids=["new booking", "duplicate"])
def test_a_delivery_takes_one_connection_from_reading_its_source_to_its_record(
    any_runtime, source, clock, repeat
):
    # The source's secret used to be read in a transaction of its own: a checkout, a BEGIN and
    # a ROLLBACK more per delivery, before any work began.
    if repeat:
        deliver(any_runtime, source, clock, "d-1")
    with checkouts(any_runtime) as taken:
        result = deliver(any_runtime, source, clock, "d-2")
    assert result.delivery.outcome == ("unchanged" if repeat else "accepted")
    assert taken == ["checkout"]


def test_a_refused_booking_keeps_only_its_record_though_its_work_shared_the_session(
    any_runtime, source, clock, monkeypatch
):
    # The work and the refusal's record share one session now: a refusal found after the
    # reservation was staged (no code left for it) must roll the work back before the record.
    from sqlalchemy import func, select

    from doorcode.domain.errors import CodeSpaceExhausted
    from doorcode.services import grants
    from doorcode.sources.deliveries import DeliveryRefused
    from doorcode.store.models import Event, Grant, Reservation, WebhookDelivery

    def no_code_left(*_args, **_kwargs):
        raise CodeSpaceExhausted("every code is taken on these locks")

    monkeypatch.setattr(grants, "_choose_code", no_code_left)
    with pytest.raises(DeliveryRefused) as refused:
        deliver(any_runtime, source, clock, "d-1")
    assert refused.value.error.reason == "code_space_exhausted"
    with any_runtime.engine.connect() as connection:
        counts = [
            connection.scalar(select(func.count()).select_from(model))
            for model in (Reservation, Grant, WebhookDelivery)
        ]
        recorded = connection.scalars(
            select(Event.kind).where(Event.kind == "ReservationRecorded")
        ).all()
    assert counts == [0, 0, 1]
    assert recorded == []


def test_a_failure_of_ours_after_staged_work_keeps_its_record_and_nothing_else(
    any_runtime, source, clock, monkeypatch
):
    from sqlalchemy import func, select

    from doorcode.services import grants
    from doorcode.store.models import Event, Grant, Reservation, WebhookDelivery

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug of ours, after the reservation was staged")

    with monkeypatch.context() as patched:
        patched.setattr(grants, "_choose_code", broken)
        with pytest.raises(RuntimeError):
            deliver(any_runtime, source, clock, "d-1")
    with any_runtime.engine.connect() as connection:
        counts = [
            connection.scalar(select(func.count()).select_from(model))
            for model in (Reservation, Grant)
        ]
        kept = connection.execute(select(WebhookDelivery.outcome, WebhookDelivery.reason)).all()
        recorded = connection.scalars(
            select(Event.kind).where(Event.kind == "ReservationRecorded")
        ).all()
    assert counts == [0, 0]
    assert [tuple(row) for row in kept] == [("rejected", "internal_error")]
    assert recorded == []
    again = deliver(any_runtime, source, clock, "d-1")  # the sender's retry goes through
    assert again.delivery.outcome == "accepted"
