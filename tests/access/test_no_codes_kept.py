"""No code, key or token ever lands in an access event, a health sample, a notice or a log line."""

from __future__ import annotations

import logging

from tests.access.conftest import at_local
from tests.builders import guide_token_of
from tests.store.test_repositories import holding, stored_rows

TABLES = (
    "access_events",
    "access_cursors",
    "lock_health_samples",
    "events",
    "alerts",
    "host_notices",
)


def test_no_code_or_token_is_stored_with_an_event_or_logged(stay, clock, caplog):
    caplog.set_level(logging.DEBUG)
    hand_set = "135790"
    wrong = "246801"
    stay.cloud.add_by_hand(stay.door.external_id, "Grandma", hand_set)
    clock.now = at_local(clock().date(), 15, 42)
    for typed in (wrong, wrong, wrong, stay.code, hand_set):
        stay.cloud.enter(stay.door.external_id, typed)
    stay.cloud.set_battery(stay.door.external_id, 5)
    report = stay.poll()
    assert report.stored == 5
    token = guide_token_of(stay.runtime, stay.reservation)
    for table in TABLES:
        rows = stored_rows(stay.runtime.engine, table)
        for secret in (stay.code, wrong, hand_set, token):
            assert holding(rows, secret) == [], (table, "holds a secret")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "alert UnknownCodeOpened" in logged  # the log did see these events
    for secret in (stay.code, wrong, hand_set, token):
        assert secret not in logged
