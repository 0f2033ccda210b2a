"""The planner: which codes belong on a lock now, who waits and why, and when that changes."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from doorcode.domain.errors import InvalidLeadTime
from doorcode.domain.lead_times import DEFAULT_LEAD_TIMES, LeadTimes
from doorcode.domain.lock_capabilities import LockCapabilities
from doorcode.domain.planner import GrantOnLock, WaitReason, plan_lock
from doorcode.domain.windows import TimeWindow

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
NATIVE = LockCapabilities()
UNSCHEDULED = LockCapabilities(native_scheduling=False)


def grant(name, starts_in_hours, hours=48, code=None, revoked=False, leads=DEFAULT_LEAD_TIMES):
    starts = NOW + timedelta(hours=starts_in_hours)
    return GrantOnLock(
        f"grt_{name}",
        TimeWindow(starts, starts + timedelta(hours=hours)),
        version=1,
        code=code or f"{abs(hash(name)) % 900000 + 100000}",
        revoked_at=NOW - timedelta(minutes=1) if revoked else None,
        leads=leads,
    )


def desired_ids(plan):
    return [code.grant_id for code in plan.desired]


def waiting(plan):
    return {entry.grant_id: entry.reason for entry in plan.waiting}


def test_code_goes_on_a_scheduling_lock_within_its_lead_time_with_its_window():
    soon, later = grant("soon", 71), grant("later", 73)
    plan = plan_lock([soon, later], NATIVE, NOW)
    assert desired_ids(plan) == ["grt_soon"]
    assert plan.desired[0].window == soon.window
    assert waiting(plan) == {"grt_later": WaitReason.LEAD_TIME}
    assert plan.next_change_at == later.window.starts_at - timedelta(hours=72)


def test_code_goes_on_a_lock_without_scheduling_an_hour_ahead_and_without_a_window():
    soon, later = grant("soon", 0.5), grant("later", 2)
    plan = plan_lock([soon, later], UNSCHEDULED, NOW)
    assert desired_ids(plan) == ["grt_soon"]
    assert plan.desired[0].window is None
    assert plan.next_change_at == later.window.starts_at - timedelta(hours=1)


def test_code_leaves_the_lock_when_its_window_ends():
    ending = grant("ending", -47)
    assert plan_lock([ending], UNSCHEDULED, NOW).next_change_at == ending.window.ends_at
    assert plan_lock([ending], UNSCHEDULED, ending.window.ends_at).desired == ()


def test_a_revoked_grant_is_never_on_the_lock():
    plan = plan_lock([grant("gone", -1, revoked=True)], NATIVE, NOW)
    assert plan.desired == ()
    assert plan.waiting == ()
    assert plan.next_change_at is None


def test_each_property_can_have_its_own_lead_time():
    eager = grant("eager", 100, leads=LeadTimes(native=timedelta(days=5)))
    assert desired_ids(plan_lock([eager], NATIVE, NOW)) == ["grt_eager"]


def test_a_full_lock_holds_the_soonest_windows_and_active_ones_first():
    grants = [grant("next", 30), grant("active", -5), grant("third", 50), grant("second", 40)]
    plan = plan_lock(grants, LockCapabilities(max_codes=2), NOW)
    assert desired_ids(plan) == ["grt_active", "grt_next"]
    assert waiting(plan) == {"grt_second": WaitReason.SPACE, "grt_third": WaitReason.SPACE}


def test_codes_set_by_hand_take_room_on_the_lock():
    plan = plan_lock([grant("a", 1), grant("b", 2)], LockCapabilities(max_codes=3), NOW, occupied=2)
    assert desired_ids(plan) == ["grt_a"]


def test_the_same_code_back_to_back_waits_until_the_earlier_grant_leaves():
    first = grant("first", -24, hours=26, code="424242")
    second = grant("second", 2, code="424242")
    plan = plan_lock([first, second], NATIVE, NOW)
    assert desired_ids(plan) == ["grt_first"]
    assert waiting(plan) == {"grt_second": WaitReason.CODE_IN_USE}
    assert plan.next_change_at == first.window.ends_at
    after = plan_lock([first, second], NATIVE, first.window.ends_at)
    assert desired_ids(after) == ["grt_second"]


def test_on_a_keypad_without_enter_key_a_prefix_of_a_code_on_the_lock_waits():
    keypad = LockCapabilities(enter_key=False)
    plan = plan_lock([grant("a", 1, code="1234"), grant("b", 2, code="123456")], keypad, NOW)
    assert waiting(plan) == {"grt_b": WaitReason.CODE_IN_USE}


def test_a_due_grant_must_carry_its_code():
    unread = GrantOnLock("grt_x", TimeWindow(NOW, NOW + timedelta(hours=1)), version=1)
    with pytest.raises(ValueError, match="not read"):
        plan_lock([unread], NATIVE, NOW)


def test_a_future_grant_needs_no_code():
    unread = GrantOnLock("grt_x", TimeWindow(NOW + timedelta(days=9), NOW + timedelta(days=10)), 1)
    assert not unread.needs_code(NATIVE, NOW)
    assert plan_lock([unread], NATIVE, NOW).waiting[0].reason is WaitReason.LEAD_TIME


@pytest.mark.parametrize("lead", [timedelta(minutes=-1), timedelta(days=31)])
def test_lead_times_are_between_zero_and_thirty_days(lead):
    with pytest.raises(InvalidLeadTime):
        LeadTimes(native=lead)


codes = st.sampled_from(["111111", "222222", "333333", "444444", "555555"])
grant_specs = st.lists(
    st.tuples(st.integers(-100, 200), st.integers(1, 120), codes, st.booleans()),
    max_size=12,
)
capabilities = st.builds(
    LockCapabilities,
    max_codes=st.one_of(st.none(), st.integers(1, 4)),
    native_scheduling=st.booleans(),
)


def build(specs):
    return [
        grant(f"g{n}", start, hours, code, revoked)
        for n, (start, hours, code, revoked) in enumerate(specs)
    ]


@given(grant_specs, capabilities, st.integers(0, 2))
def test_the_plan_never_breaks_the_lock_rules(specs, caps, occupied):
    grants = {g.grant_id: g for g in build(specs)}
    plan = plan_lock(grants.values(), caps, NOW, occupied=occupied)
    chosen = [grants[code.grant_id] for code in plan.desired]
    assert len({g.code for g in chosen}) == len(chosen)
    if caps.max_codes is not None:
        assert len(chosen) <= max(0, caps.max_codes - occupied)
    for g in chosen:
        assert g.programming_starts_at(caps) <= NOW < g.ends_at
    live = {g.grant_id for g in grants.values() if g.is_live(NOW)}
    assert set(desired_ids(plan)) | set(waiting(plan)) == live


@given(grant_specs, capabilities, st.floats(0, 1))
# A code on the lock until 9 h from now and one due on it at 4 h (5 h check-in, 1 h lead):
# halfway to a next change reported too late (at 9 h), the second code would already be on.
@example([(-1, 10, "111111", False), (5, 10, "222222", False)], UNSCHEDULED, 0.5)
def test_nothing_changes_before_the_next_change_instant(specs, caps, fraction):
    grants = build(specs)
    plan = plan_lock(grants, caps, NOW)
    assume(plan.next_change_at is not None)  # nothing live: nothing to check
    between = NOW + (plan.next_change_at - NOW) * fraction
    assume(between < plan.next_change_at)  # fraction 1 (or rounding to it) lands on the change
    assert desired_ids(plan_lock(grants, caps, between)) == desired_ids(plan)


def test_a_spare_code_only_takes_room_nobody_else_needs():
    day, hour = timedelta(days=1), timedelta(hours=1)
    caps = LockCapabilities(max_codes=2)
    spare = GrantOnLock("backup", TimeWindow(NOW - day, NOW + 300 * day), 1, "999999", spare=True)
    guests = [
        GrantOnLock(f"guest{n}", TimeWindow(NOW + n * hour, NOW + day), 1, f"12345{n}")
        for n in range(2)
    ]
    assert [code.grant_id for code in plan_lock([spare, guests[0]], caps, NOW).desired] == [
        "guest0",
        "backup",
    ]
    full = plan_lock([spare, *guests], caps, NOW)
    assert [code.grant_id for code in full.desired] == ["guest0", "guest1"]
    assert [(w.grant_id, w.reason) for w in full.waiting] == [("backup", WaitReason.SPACE)]
