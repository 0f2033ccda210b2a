"""When a guidebook shows codes: from the reveal time before check-in until check-out."""

from datetime import UTC, datetime, timedelta

import pytest

from doorcode.domain.guidebook import GuideStage, GuideTiming
from doorcode.domain.windows import TimeWindow

CHECK_IN = datetime(2026, 12, 4, 15, tzinfo=UTC)
CHECK_OUT = datetime(2026, 12, 7, 11, tzinfo=UTC)
TIMING = GuideTiming(TimeWindow(CHECK_IN, CHECK_OUT))


@pytest.mark.parametrize(
    ("now", "status", "stage"),
    [
        (CHECK_IN - timedelta(hours=48, seconds=1), "confirmed", GuideStage.WAITING),
        (CHECK_IN - timedelta(hours=48), "confirmed", GuideStage.READY),
        (CHECK_IN, "confirmed", GuideStage.STAYING),
        (CHECK_OUT - timedelta(seconds=1), "confirmed", GuideStage.STAYING),
        (CHECK_OUT, "confirmed", GuideStage.OVER),
        (CHECK_OUT + timedelta(days=14), "confirmed", GuideStage.EXPIRED),
        (CHECK_IN, "pending", GuideStage.UNCONFIRMED),
        (CHECK_IN, "cancelled", GuideStage.EXPIRED),
    ],
)
def test_the_stage_follows_the_clock_and_the_status(now, status, stage):
    assert TIMING.stage(status, now) is stage


def test_each_property_chooses_how_early_codes_appear():
    at_check_in = GuideTiming(TimeWindow(CHECK_IN, CHECK_OUT), reveal_hours=0)
    assert at_check_in.reveal_at == CHECK_IN
    assert at_check_in.stage("confirmed", CHECK_IN - timedelta(minutes=1)) is GuideStage.WAITING


def test_arrival_and_departure_can_be_reported_only_when_they_make_sense():
    assert not TIMING.may_report_arrival("confirmed", CHECK_IN - timedelta(hours=49))
    assert not TIMING.may_report_arrival("confirmed", CHECK_IN - timedelta(hours=11))
    assert TIMING.may_report_arrival("confirmed", CHECK_IN)
    assert not TIMING.may_report_arrival("confirmed", CHECK_OUT)
    assert not TIMING.may_report_departure("confirmed", CHECK_IN - timedelta(hours=1))
    assert TIMING.may_report_departure("confirmed", CHECK_OUT + timedelta(hours=11))
    assert not TIMING.may_report_departure("confirmed", CHECK_OUT + timedelta(hours=13))
