"""Grant state is read off the clock, never stored."""

from datetime import UTC, datetime, timedelta

from doorcode.domain.grants import GrantState, grant_state
from doorcode.domain.windows import TimeWindow

START = datetime(2026, 6, 1, 14, tzinfo=UTC)
WINDOW = TimeWindow(START, START + timedelta(days=3))


def test_state_follows_the_clock_through_the_window():
    assert grant_state(WINDOW, None, START - timedelta(seconds=1)) is GrantState.SCHEDULED
    assert grant_state(WINDOW, None, START) is GrantState.ACTIVE
    assert grant_state(WINDOW, None, WINDOW.ends_at) is GrantState.EXPIRED


def test_revocation_wins_from_the_moment_it_happens():
    revoked_at = START + timedelta(days=1)
    assert grant_state(WINDOW, revoked_at, revoked_at - timedelta(seconds=1)) is GrantState.ACTIVE
    assert grant_state(WINDOW, revoked_at, revoked_at) is GrantState.REVOKED
