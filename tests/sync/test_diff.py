"""The diff: desired codes against a lock's codes of ours, as create/update/delete actions."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorcode.domain.planner import DesiredCode
from doorcode.domain.windows import TimeWindow
from doorcode.locks.base import ProviderCode
from doorcode.locks.tags import tag_for
from doorcode.sync.diff import Create, Delete, Update, diff, split_by_owner

NOW = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = TimeWindow(NOW, NOW + timedelta(days=2))


def want(grant_id, code="123456", window=WINDOW):
    return DesiredCode(grant_id, code, window, 1)


def found(code_id, grant_id, code="123456", window=WINDOW):
    starts, ends = (window.starts_at, window.ends_at) if window else (None, None)
    return ProviderCode(code_id, tag_for(grant_id), code, starts, ends)


def ours(*codes):
    return split_by_owner(codes)[0]


def test_a_lock_that_matches_needs_nothing():
    assert diff([want("grt_a")], ours(found("c1", "grt_a"))) == []


def test_differences_below_the_locks_resolution_are_no_difference():
    rounded = TimeWindow(NOW, NOW + timedelta(days=2, seconds=40))
    assert diff([want("grt_a")], ours(found("c1", "grt_a", window=rounded))) == []


def test_missing_codes_are_created_and_unwanted_ones_deleted_first():
    actions = diff([want("grt_a")], ours(found("c9", "grt_old")))
    assert actions == [Delete("c9", "grt_old", "no longer wanted"), Create(want("grt_a"))]


def test_a_moved_window_is_updated_in_place():
    moved = TimeWindow(NOW + timedelta(days=1), NOW + timedelta(days=3))
    assert diff([want("grt_a", window=moved)], ours(found("c1", "grt_a"))) == [
        Update("c1", want("grt_a", window=moved))
    ]


def test_a_pin_changed_at_the_lock_is_replaced():
    actions = diff([want("grt_a")], ours(found("c1", "grt_a", code="999999")))
    assert actions == [
        Delete("c1", "grt_a", "its code was changed"),
        Create(want("grt_a"), replacing=True),
    ]


def test_a_masked_code_is_kept_only_when_doorcode_wrote_the_pin_wanted_now():
    masked = ours(found("c1", "grt_a", code=None))
    assert diff([want("grt_a")], masked, written={"grt_a": "123456"}) == []
    assert diff([want("grt_a", code="654321")], masked, written={"grt_a": "123456"}) == [
        Delete("c1", "grt_a", "its code was changed"),
        Create(want("grt_a", code="654321"), replacing=True),
    ]


def test_a_masked_code_whose_written_pin_is_unknown_is_written_again():
    actions = diff([want("grt_a")], ours(found("c1", "grt_a", code=None)))
    assert actions == [
        Delete("c1", "grt_a", "its code was changed"),
        Create(want("grt_a"), replacing=True),
    ]


def test_a_grant_found_twice_keeps_the_right_copy():
    wrong_window = TimeWindow(NOW, NOW + timedelta(days=9))
    codes = ours(found("c1", "grt_a", window=wrong_window), found("c2", "grt_a"))
    assert diff([want("grt_a")], codes) == [Delete("c1", "grt_a", "a second copy")]


def test_codes_set_by_hand_are_not_ours():
    mine, theirs = split_by_owner([found("c1", "grt_a"), ProviderCode("c2", "Grandma", "1")])
    assert list(mine) == ["grt_a"]
    assert [code.code_id for code in theirs] == ["c2"]


grant_ids = st.sampled_from(["grt_a", "grt_b", "grt_c", "grt_d"])
pins = st.sampled_from(["111111", "222222"])
windows = st.sampled_from(
    [
        WINDOW,
        TimeWindow(NOW, NOW + timedelta(hours=5)),
        TimeWindow(NOW + timedelta(hours=1), NOW + timedelta(days=9)),
    ]
)


@given(
    desired=st.dictionaries(grant_ids, st.tuples(pins, windows)),
    actual=st.lists(st.tuples(grant_ids, pins, windows), max_size=8),
)
def test_applying_the_actions_leaves_exactly_the_desired_codes(desired, actual):
    wanted = [want(g, pin, window) for g, (pin, window) in desired.items()]
    lock = {f"c{n}": (g, pin, window) for n, (g, pin, window) in enumerate(actual)}
    codes = ours(*(found(code_id, *values) for code_id, values in lock.items()))
    for action in diff(wanted, codes):
        if isinstance(action, Delete):
            del lock[action.code_id]
        elif isinstance(action, Update):
            g, pin, _ = lock[action.code_id]
            lock[action.code_id] = (g, pin, action.desired.window)
        else:
            d = action.desired
            lock[f"new-{d.grant_id}"] = (d.grant_id, d.code, d.window)
    assert sorted(lock.values(), key=repr) == sorted(
        ((g, pin, window) for g, (pin, window) in desired.items()), key=repr
    )
