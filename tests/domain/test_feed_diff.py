"""The two-miss rule: what one good calendar fetch means for the bookings seen before."""

from doorcode.domain.feed_diff import MISSES_TO_CANCEL, Remembered, diff_feed


def test_new_and_changed_bookings_are_recorded_and_unchanged_ones_left_alone():
    remembered = {"a": Remembered("fa"), "b": Remembered("fb")}
    diff = diff_feed(remembered, {"a": "fa", "b": "fb2", "c": "fc"}, {"a", "b", "c"})
    assert set(diff.record) == {"b", "c"}
    assert diff.cancel == ()


def test_a_booking_missing_once_is_only_missed_and_twice_is_cancelled():
    assert MISSES_TO_CANCEL == 2
    once = diff_feed({"a": Remembered("fa")}, {}, {"other"})
    assert once.missed == {"a": 1}
    assert once.cancel == ()
    twice = diff_feed({"a": Remembered("fa", missing=1)}, {}, {"other"})
    assert twice.cancel == ("a",)


def test_a_booking_seen_again_after_a_miss_is_reset_not_rerecorded():
    diff = diff_feed({"a": Remembered("fa", missing=1)}, {"a": "fa"}, {"a"})
    assert (diff.record, diff.reset, diff.cancel) == ((), ("a",), ())


def test_a_booking_still_shown_in_another_form_is_not_missing():
    diff = diff_feed({"a": Remembered("fa", missing=1)}, {}, {"a"})
    assert diff.cancel == ()
    assert diff.reset == ("a",)


def test_a_booking_back_after_its_cancellation_is_recorded_again():
    diff = diff_feed({"a": Remembered("fa", cancelled=True)}, {"a": "fa"}, {"a"})
    assert diff.record == ("a",)


def test_finished_stays_leaving_the_calendar_are_forgotten_not_cancelled():
    diff = diff_feed({"a": Remembered("fa", over=True)}, {}, set())
    assert (diff.forget, diff.cancel) == (("a",), ())


def test_bookings_the_calendar_marks_cancelled_are_cancelled_at_once():
    diff = diff_feed({"a": Remembered("fa")}, {}, {"a"}, cancelled={"a"})
    assert diff.cancel == ("a",)
    again = diff_feed({"a": Remembered("fa", cancelled=True)}, {}, {"a"}, cancelled={"a"})
    assert again.cancel == ()


def test_cancelled_bookings_that_stay_away_are_not_cancelled_again():
    diff = diff_feed({"a": Remembered("fa", cancelled=True)}, {}, {"other"})
    assert (diff.cancel, diff.missed) == ((), {})
