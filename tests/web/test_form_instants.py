"""A dashboard form's date and time outside the accepted years is refused, never a 500."""

from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import FormData

from doorcode.domain.errors import InstantOutOfRange
from doorcode.domain.windows import Edge
from doorcode.web.forms import Form


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_local_time_outside_the_accepted_years_names_its_field(value):
    form = Form(FormData({"starts_at": value}))
    with pytest.raises(InstantOutOfRange) as refused:
        form.local_time("starts_at", ZoneInfo("Pacific/Kiritimati"), Edge.START)
    assert refused.value.field == "starts_at"
