"""Fuzzing the dashboard's form reader: any submitted value is read or refused by its field."""

from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData

from doorcode.domain.windows import Edge
from doorcode.web.forms import Form, FormProblem

FUZZ = settings(
    max_examples=150,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
VALUES = st.text(max_size=30) | st.sampled_from(
    [
        "²",
        "١٢",
        "12\x00",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "2026-03-29T01:30",
        "2026-11-23T09:00+05:00",
        "99999999999999999999",
        "x" * 2001,
    ]
)
READERS = [
    lambda form: form.text("f", required=True),
    lambda form: form.texts("f"),
    lambda form: form.number("f", low=0, high=100),
    lambda form: form.optional_number("f", low=1, high=10),
    lambda form: form.checked("f"),
    lambda form: form.choice("f", ["a", "b"]),
    lambda form: form.local_time("f", ZoneInfo("Pacific/Kiritimati"), Edge.START),
    lambda form: form.local_time("f", ZoneInfo("Pacific/Pago_Pago"), Edge.END),
]


@FUZZ
@given(values=st.lists(VALUES, min_size=1, max_size=3), reader=st.sampled_from(READERS))
def test_any_submitted_value_is_read_or_refused_naming_its_field(values, reader):
    form = Form(FormData([("f", value) for value in values]))
    try:
        reader(form)
    except FormProblem as refused:
        field = refused.field
        assert field == "f"


@pytest.mark.parametrize("value", ["²", "١٢", "1٣"])
def test_a_number_in_other_digits_is_refused_not_a_crash(value):
    with pytest.raises(FormProblem, match="whole number"):
        Form(FormData([("f", value)])).number("f", low=0, high=100)


def test_a_nul_character_in_a_text_field_is_refused():
    with pytest.raises(FormProblem, match="NUL"):
        Form(FormData([("name", "Fl\x00at")])).text("name")
