"""Audit events go in one batch, yet a transaction reads its own and a rollback drops them."""

from doorcode.store.repositories import EventFilter
from tests.builders import make_owner


def record(uow, organisation_id, kind):
    uow.events.record(
        organisation_id, at=uow.now, actor="test", kind=kind, subject=("grant", "grt_1")
    )


def test_a_transaction_reads_the_events_it_recorded_in_their_order(runtime):
    owner = make_owner(runtime)
    with runtime.uow() as uow:
        record(uow, owner.organisation_id, "First")
        record(uow, owner.organisation_id, "Second")
        seen = [event.kind for event in uow.events.search(owner.organisation_id, EventFilter())]
        uow.commit()
    with runtime.uow() as uow:
        kept = [event.kind for event in uow.events.search(owner.organisation_id, EventFilter())]
    assert seen == ["Second", "First"]  # newest first
    assert kept[:2] == ["Second", "First"]


def test_events_of_a_rolled_back_transaction_are_never_written(runtime):
    owner = make_owner(runtime)
    with runtime.uow() as uow:
        before = uow.events.count(owner.organisation_id, EventFilter())
    with runtime.uow() as uow:
        record(uow, owner.organisation_id, "Dropped")
        uow.rollback()
        record(uow, owner.organisation_id, "Kept")
        uow.commit()
    with runtime.uow() as uow:
        after = uow.events.search(owner.organisation_id, EventFilter())
    assert len(after) == before + 1
    assert after[0].kind == "Kept"


def test_events_of_a_transaction_left_without_commit_are_never_written(runtime):
    owner = make_owner(runtime)
    with runtime.uow() as uow:
        before = uow.events.count(owner.organisation_id, EventFilter())
        record(uow, owner.organisation_id, "Abandoned")
    with runtime.uow() as uow:
        uow.flush()
        uow.commit()
        assert uow.events.count(owner.organisation_id, EventFilter()) == before
