"""A setting the operator got wrong is one line naming the variable: no traceback, no value."""

import pytest


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("DOORCODE_ACCESS_QUIET_POLL_SECONDS", "-1", "greater than or equal to 0"),
        ("DOORCODE_ACCESS_POLL_SECONDS", "soon", "valid number"),
        ("DOORCODE_PORT", "eighty", "valid integer"),
    ],
)
def test_a_bad_setting_is_named_with_its_rule(cli, monkeypatch, variable, value, rule):
    monkeypatch.setenv(variable, value)
    result = cli("property", "list", expect=1)
    assert result.output.startswith(f"Error: {variable}: "), result.output
    assert rule in result.output
    assert "Traceback" not in result.output
    assert value not in result.output.split(":", 2)[2]


def test_a_bad_value_is_never_echoed(cli, monkeypatch):
    monkeypatch.setenv("DOORCODE_SMTP_PORT", "hunter2-is-my-password")
    result = cli("property", "list", expect=1)
    assert "DOORCODE_SMTP_PORT" in result.output
    assert "hunter2" not in result.output
