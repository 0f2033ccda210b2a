"""A lock code's status, from what the reconciler recorded."""

import pytest

from doorcode.domain.lock_code_status import LockCodeFacts, LockCodeStatus, lock_code_status


def facts(desired="absent", actual="absent", wait=None, confirmed=None, error=None, visited=True):
    return LockCodeFacts(desired, actual, wait, confirmed, error, visited)


@pytest.mark.parametrize(
    ("recorded", "status"),
    [
        (facts(visited=False), LockCodeStatus.PENDING),
        (facts(wait="lead_time"), LockCodeStatus.WAITING_FOR_LEAD_TIME),
        (facts(wait="space"), LockCodeStatus.WAITING_FOR_SPACE),
        (facts(wait="code_in_use"), LockCodeStatus.WAITING_FOR_CODE),
        (facts(wait="not_programmable"), LockCodeStatus.NOT_PROGRAMMABLE),
        (facts("present"), LockCodeStatus.SETTING),
        (facts("present", "present", confirmed=3), LockCodeStatus.SET),
        (facts("present", "present", confirmed=2), LockCodeStatus.SETTING),
        (facts("present", error="the lock does not answer"), LockCodeStatus.FAILED),
        (facts(actual="present"), LockCodeStatus.REMOVING),
        (facts(actual="present", error="503"), LockCodeStatus.FAILED),
        (facts(), LockCodeStatus.REMOVED),
    ],
)
def test_each_recorded_state_reads_as_one_status(recorded, status):
    assert lock_code_status(recorded, grant_version=3) is status


def test_a_code_of_a_grant_that_is_over_reads_removing_until_it_is_gone():
    on_the_lock = LockCodeFacts("present", "present", None, 3, None, visited=True)
    assert lock_code_status(on_the_lock, 4, live=False) is LockCodeStatus.REMOVING
    gone = LockCodeFacts("present", "absent", None, 3, None, visited=True)
    assert lock_code_status(gone, 4, live=False) is LockCodeStatus.REMOVED
    assert lock_code_status(on_the_lock, 4) is LockCodeStatus.SETTING
